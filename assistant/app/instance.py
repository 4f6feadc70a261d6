"""One writing app per user data folder: the first holds a lock, a second one opens read-only."""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from assistant.atomic import private_dir

LOCK_FILE = "app.lock"


class InstanceLock:
    """A non-blocking lock held for the life of the app (released by the OS if the app dies)."""

    def __init__(self, data_dir: Path) -> None:
        private_dir(data_dir)
        self._lock = FileLock(str(data_dir / LOCK_FILE), timeout=0, mode=0o600)

    def acquire(self) -> bool:
        """True if this is the only instance; False if another app holds the lock."""
        try:
            self._lock.acquire()
        except Timeout:
            return False
        return True

    def release(self) -> None:
        """Let the next instance write."""
        if self._lock.is_locked:
            self._lock.release()
