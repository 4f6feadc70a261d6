"""A real editor: headless Neovim (0.7+) with plugins/neovim attached to ``assistant lsp``, editing a buffer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from assistant.engine.ngramsource import NgramSource
from assistant.engine.predictor import Predictor
from assistant.lm.io import load_model
from assistant.shipped import base_model_dir

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "plugins" / "neovim"

# Runs inside Neovim: set up the plugin as a user would, edit a Markdown file as a user would (normal-mode
# commands, so Neovim computes the incremental changes itself), then ask the server and write what came back.
SCRIPT = r"""
local out_path, python, plugin = OUT, PYTHON, PLUGIN
vim.opt.runtimepath:append(plugin)
vim.cmd("filetype on")
local assistant = require("assistant")
assistant.setup({
  cmd = { python, "-m", "assistant", "lsp" },
  init_options = { model = "base", candidates = 5 },
})
vim.cmd("edit " .. vim.fn.fnameescape(FILE))
local bufnr = vim.api.nvim_get_current_buf()
local ready = vim.wait(30000, function()
  local clients = vim.lsp.buf_get_clients(bufnr)
  for _, c in pairs(clients) do
    if c.initialized then return true end
  end
  return false
end, 50)
local result = { ready = ready, filetype = vim.bo.filetype, omnifunc = vim.bo.omnifunc }

vim.cmd("normal! Go😀😀 The meeting has been")
vim.cmd("normal! A mov")
vim.cmd("normal! gg0cwHi")  -- an edit above the cursor line: "Dear team," -> "Hi team,"
vim.cmd("normal! Go")
vim.cmd("normal! dd")
local row = vim.api.nvim_buf_line_count(bufnr) - 1
local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1]
local _, col16 = vim.str_utfindex(line)
local params = {
  textDocument = { uri = vim.uri_from_bufnr(bufnr) },
  position = { line = row, character = col16 },
  context = { triggerKind = 1 },
}
result.lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
result.position = params.position
local function first(responses)
  for _, r in pairs(responses or {}) do
    if r.err then return { error = r.err } end
    return r.result
  end
end
result.completion = first(vim.lsp.buf_request_sync(bufnr, "textDocument/completion", params, 10000))
params.context = { triggerKind = 2 }
result.inline = first(vim.lsp.buf_request_sync(bufnr, "textDocument/inlineCompletion", params, 10000))
local f = assert(io.open(out_path, "w"))
f:write(vim.fn.json_encode(result))
f:close()
vim.lsp.stop_client(vim.lsp.get_active_clients())
vim.wait(3000, function() return #vim.lsp.get_active_clients() == 0 end, 50)
vim.cmd("qa!")
"""


# The ghost text as a user sees it: type in the buffer, the plugin asks for the phrase after the change and draws
# it (extmark); the buffer is unchanged until the accept key inserts it.
GHOST_SCRIPT = r"""
local out_path, python, plugin = OUT, PYTHON, PLUGIN
vim.opt.runtimepath:append(plugin)
vim.cmd("filetype on")
vim.o.virtualedit = "onemore" -- headless stays in normal mode: let the cursor sit after the last character
local assistant = require("assistant")
assistant.setup({ cmd = { python, "-m", "assistant", "lsp" }, init_options = { model = "base", candidates = 5 } })
vim.cmd("edit " .. vim.fn.fnameescape(FILE))
local bufnr = vim.api.nvim_get_current_buf()
vim.wait(30000, function()
  for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if c.initialized then return true end
  end
  return false
end, 50)
vim.cmd("normal! GA The meeting has been mov")
local row = vim.api.nvim_buf_line_count(bufnr)
local line = vim.api.nvim_buf_get_lines(bufnr, row - 1, row, false)[1]
vim.api.nvim_win_set_cursor(0, { row, #line })
local ns = vim.api.nvim_create_namespace("assistant_ghost")
assistant.request_ghost(bufnr) -- what TextChangedI does in insert mode
local shown = vim.wait(20000, function()
  return #vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, {}) > 0
end, 50)
local marks = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
local result = {
  version = vim.version(),
  style = assistant.ghost_style(),
  shown = shown,
  marks = marks,
  before_accept = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false),
}
assistant.accept(bufnr)
result.after_accept = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
result.cursor = vim.api.nvim_win_get_cursor(0)
result.marks_after = #vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, {})
local f = assert(io.open(out_path, "w"))
f:write(vim.fn.json_encode(result))
f:close()
vim.lsp.stop_client(vim.lsp.get_active_clients())
vim.wait(3000, function() return #vim.lsp.get_active_clients() == 0 end, 50)
vim.cmd("qa!")
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for these paths


def run_nvim(tmp_path: Path, script_text: str, note: Path) -> dict:
    """Run ``script_text`` in headless Neovim on ``note`` with the plugin; returns the JSON the script wrote."""
    out = tmp_path / "result.json"
    values = {"OUT": out, "PYTHON": sys.executable, "PLUGIN": PLUGIN, "FILE": note}
    header = "".join(f"local {k} = {lua_string(str(v))}\n" for k, v in values.items())
    script = tmp_path / "test.lua"
    script.write_text(header + script_text, encoding="utf-8")
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        ["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {script}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.exists(), f"Neovim wrote no result (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim (nvim) is not installed")
def test_neovim_gets_completions_and_ghost_text(tmp_path: Path) -> None:
    note = tmp_path / "notes.md"
    note.write_text("Dear team,\n", encoding="utf-8")
    result = run_nvim(tmp_path, SCRIPT, note)
    assert result["ready"] and result["filetype"] == "markdown" and result["omnifunc"] == "v:lua.vim.lsp.omnifunc"

    line = "😀😀 The meeting has been mov"
    assert result["lines"] == ["Hi team,", line]
    assert result["position"] == {"line": 1, "character": len(line) + 2}  # two emoji: two UTF-16 units each

    torch.set_num_threads(1)
    expected = Predictor(load_model(base_model_dir()), ngram=NgramSource.shared(base_model_dir())).suggest(
        "Hi team,\n" + line, 5
    )
    items = result["completion"]["items"]
    assert [i["label"] for i in items] == [c.word for c in expected.words]
    assert "moved" in [i["label"] for i in items]
    for item in items:
        assert item["textEdit"]["newText"] == item["label"] and item["label"].startswith("mov")
        assert item["textEdit"]["range"] == {
            "start": {"line": 1, "character": len(line) + 2 - 3},
            "end": {"line": 1, "character": len(line) + 2},
        }
    inline = result["inline"]["items"][0]
    assert expected.phrase is not None and inline["insertText"] == "mov" + expected.phrase.text
    assert inline["range"]["start"] == {"line": 1, "character": len(line) + 2 - 3}


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim (nvim) is not installed")
def test_neovim_ghost_text_is_drawn_apart_from_the_text_and_accepted(tmp_path: Path) -> None:
    note = tmp_path / "notes.md"
    note.write_text("Dear team,\n", encoding="utf-8")
    result = run_nvim(tmp_path, GHOST_SCRIPT, note)
    line = "Dear team, The meeting has been mov"
    torch.set_num_threads(1)
    expected = Predictor(load_model(base_model_dir()), ngram=NgramSource.shared(base_model_dir())).suggest(line, 5)
    assert expected.phrase is not None
    addition = expected.phrase.text  # what follows "mov" in the item's insertText ("mov" + phrase)

    version = (result["version"]["major"], result["version"]["minor"])
    want = "eol" if version < (0, 10) else "inline"  # 0.12+ ("builtin") draws inline too when asked directly
    assert result["style"] == ("eol" if version < (0, 10) else "inline" if version < (0, 12) else result["style"])
    assert result["shown"] and len(result["marks"]) == 1
    _, mark_row, mark_col, details = result["marks"][0]
    assert (mark_row, mark_col) == (0, len(line))
    if want == "eol":  # Neovim < 0.10: after the line, behind a marker, never glued to the word being typed
        assert details["virt_text_pos"] == "eol"
        assert details["virt_text"] == [["→ " + addition, "Comment"]]
    else:
        assert details["virt_text_pos"] == "inline" and details["virt_text"] == [[addition, "Comment"]]
    assert result["before_accept"] == [line]  # ghost text is not text until accepted
    assert result["after_accept"] == [line + addition]
    assert result["cursor"] == [1, len((line + addition).encode())]
    assert result["marks_after"] == 0
