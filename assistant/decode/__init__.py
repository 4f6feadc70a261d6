"""Decoding: greedy, sampling (temperature, top-k, top-p) and beam search over the GRU's carried state."""
