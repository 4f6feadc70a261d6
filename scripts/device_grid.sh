#!/usr/bin/env bash
# Part 2 of issue 13 in one device call: train the v2 grid on the GPU from carry/mix_v2.npz.xz.
#   run(command="bash scripts/device_grid.sh", carry=["carry"], timeout_s=480)
# The device's python3 holds torch, sentencepiece, safetensors and numpy; nothing is installed.
# BUDGET (seconds, default 420) bounds the whole script; the rest of the arguments go to device_grid.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
: "${OUT:?OUT must name the folder that comes back}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
test -f carry/mix_v2.npz.xz || { echo "carry/mix_v2.npz.xz is missing: name carry in the run's carry list" >&2; exit 2; }
exec python3 scripts/device_grid.py --carry carry/mix_v2.npz.xz --out "$OUT" --work /tmp/grid \
    --device cuda --budget "${BUDGET:-420}" "$@"
