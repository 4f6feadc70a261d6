"""Fixtures of the raw JSON-RPC language-server tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.lsp_raw import RawClient


@pytest.fixture
def client(tmp_path: Path, tiny_model_dir: Path):
    c = RawClient(tmp_path / "home", tiny_model_dir)
    c.start()
    yield c
    c.close()


@pytest.fixture
def start(tmp_path: Path, tiny_model_dir: Path):
    """Start servers (``start(options)``); each is shut down at the end if still running."""
    clients: list[RawClient] = []

    def make(options: dict[str, Any] | None = None, text: str = "The cat sat on the") -> RawClient:
        c = RawClient(tmp_path / f"home{len(clients)}", tiny_model_dir)
        clients.append(c)
        c.start(options, text)
        return c

    yield make
    for c in clients:
        c.close()
