"""Append-only JSON-lines logs under the user log folder (what fine-tuning did, and when)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from assistant.atomic import private_dir


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` (plus a UTC timestamp) as one JSON line; the file is private to the user."""
    private_dir(path.parent)
    line = json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **record}, ensure_ascii=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)
