"""``python -m assistant.train``: base training without the app's dependencies (GPU machines, torchrun)."""

import sys

from assistant.train.base import main

sys.exit(main(prog="python -m assistant.train"))
