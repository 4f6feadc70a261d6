"""The bot's saved login: after a password login, its access token and device id in ``login.json`` (0600) of the
bot's data folder, reused on the next start so that a restart does not make a new device.

A saved login answers only for the homeserver and account it was made for. The token is never logged or shown.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from assistant.atomic import atomic_write_text, private_dir

LOGIN_FILE = "login.json"
"""The saved login's name in the bot's data folder (beside the users' folders, which are named by hashes)."""


@dataclass(frozen=True)
class SavedLogin:
    """One login of the bot's account."""

    homeserver: str
    user_id: str
    device_id: str
    access_token: str = dataclasses.field(repr=False)


def login_path(data_dir: Path) -> Path:
    return data_dir / LOGIN_FILE


def load_login(path: Path, homeserver: str, user_id: str) -> SavedLogin | None:
    """The login saved at ``path`` for this homeserver and account; None if there is none (or it is unreadable,
    or for another account)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        login = SavedLogin(**{f.name: str(raw[f.name]) for f in dataclasses.fields(SavedLogin)})
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError):
        return None
    if login.homeserver != homeserver or login.user_id != user_id or not login.access_token:
        return None
    return login


def save_login(path: Path, login: SavedLogin) -> None:
    """Write ``login`` atomically, private to the user (its folder 0700, the file 0600)."""
    private_dir(path.parent)
    atomic_write_text(path, json.dumps(dataclasses.asdict(login)) + "\n", mode=0o600)


def forget_login(path: Path) -> None:
    path.unlink(missing_ok=True)
