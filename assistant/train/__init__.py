"""Training: token streams, TBPTT batches, the training loop with checkpoints and DDP, base training."""
