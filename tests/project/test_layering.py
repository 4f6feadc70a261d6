"""The core imports no UI or host frameworks (docs/design.md layers; the GPU machine has only torch & co)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

CORE = [
    "assistant.text",
    "assistant.lm",
    "assistant.train.base",
    "assistant.train.trainer",
    "assistant.decode.generate",
    "assistant.decode.wordsearch",
    "assistant.engine",
    "assistant.eval.metrics",
]
FORBIDDEN = ["textual", "platformdirs", "pygls", "errbot"]


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_frameworks(module: str) -> None:
    code = f"import sys, {module}\nbad = [m for m in {FORBIDDEN!r} if m in sys.modules]\nprint(','.join(bad))\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"{module} imports {proc.stdout.strip()}"


def test_training_imports_without_rich_or_numpy() -> None:
    # The bare GPU machine has torch, sentencepiece and safetensors only.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('rich', 'numpy', 'textual', 'platformdirs'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import assistant.train.base, assistant.train.trainer\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_the_package_never_imports_a_plugin() -> None:
    # Imports point one way: plugins/ use the assistant package, never the reverse.
    package = Path(__file__).parents[2] / "assistant"
    plugin_modules = {p.stem for p in (package.parent / "plugins").rglob("*.py")}
    assert plugin_modules, "the plugins folder should hold the chat-bot plugin"
    pattern = re.compile(r"^\s*(?:from|import)\s+(plugins|" + "|".join(sorted(plugin_modules)) + r")\b", re.M)
    offenders = [str(f) for f in package.rglob("*.py") if pattern.search(f.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_app_and_the_language_server_stay_out_of_each_other() -> None:
    code = (
        "import sys, assistant.serve.server\n"
        "assert 'textual' not in sys.modules, 'the language server imports textual'\n"
        "import assistant.app.app\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_the_chat_bot_plugin_goes_through_the_service_layer() -> None:
    # import-linter checks the package (pyproject.toml); the plugin's modules are not a package, so here.
    forbidden = ("torch", "assistant.lm", "assistant.train")
    offenders = []
    for path in (Path(__file__).parents[2] / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if any(n == f or n.startswith(f + ".") for f in forbidden)]
    assert offenders == []
