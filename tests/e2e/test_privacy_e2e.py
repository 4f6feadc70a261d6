"""Privacy across the front ends: a secret planted in an imported document is never completed by the language
server (a real client over stdio), though an ordinary word of the same document is."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.cli import run_cli
from tests.support.lsp import lsp_server

SECRET = "AKIA" + "QZ7" * 5 + "X"  # an AWS access key id: AKIA and 16 more letters or digits


async def test_a_planted_secret_is_not_completed_by_the_language_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    doc = tmp_path / "ops.txt"
    doc.write_text(f"The vault key {SECRET} opens the zorblax.\n\n" * 3, encoding="utf-8")
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    assert run_cli("import", str(doc), env=env).returncode == 0
    uri = f"file://{tmp_path}/draft.md"
    async with lsp_server(home, {"model": "base"}) as s:
        text = "The vault key AKIA"
        s.open(uri, text)
        result = await s.complete(uri, 0, len(text))
        labels = [item.label for item in result.items] if result else []
        assert not any(label.startswith("AKIAQ") for label in labels)
        text = "It opens the zorb"
        s.open(uri + "2", text)
        result = await s.complete(uri + "2", 0, len(text))
        assert result is not None and "zorblax" in [item.label for item in result.items]  # the memory is on
