"""Append-only JSON-lines logs under the user log folder (what fine-tuning did, and when)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` (plus a UTC timestamp) as one JSON line; the file is private to the user."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **record}, ensure_ascii=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)
