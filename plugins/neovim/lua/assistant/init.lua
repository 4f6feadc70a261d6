-- The assistant language server in Neovim 0.7+ (built-in LSP client, no plugins needed).
--
--   require("assistant").setup({})   -- see README.md for every option
--
-- Word completion arrives through the LSP omnifunc (<C-x><C-o>) or any completion plugin; the phrase
-- continuation (textDocument/inlineCompletion) is shown as ghost text and accepted with the accept key:
-- Neovim 0.12+ with vim.lsp.inline_completion draws it itself; 0.10+ draws it inline, right after the cursor;
-- older versions cannot draw text inside a line (end-of-line virtual text starts one cell after the line, so
-- "doing w" + "ell" looked like "doing w ell"), so there it is a dim hint after a marker: "doing w  → ell going".
-- Partial accept: the next word of the ghost text, or up to the end of its line (accept_word_key, accept_line_key).
-- The ghost text hides while the completion menu is open (ghost_with_menu = false), so the two never overlap.
-- When the server's init_options say onDemand, nothing is asked for while typing: suggest_key asks.
-- Tested (tests/test_neovim.py) on Neovim 0.7 ("eol") and 0.11 ("inline", vim.lsp.completion); the 0.12 path
-- ("builtin") is a few lines that hand over to vim.lsp.inline_completion and has not run in a test.

local M = {}

M.config = {
  cmd = { "assistant", "lsp" },
  filetypes = { "text", "markdown", "gitcommit", "mail" },
  init_options = { model = "personal", candidates = 5, learnOnSave = false },
  omnifunc = true, -- set 'omnifunc' to vim.lsp.omnifunc in attached buffers
  ghost_text = true, -- ask for a phrase after each change in insert mode and show it as ghost text
  accept_key = "<C-l>", -- insert-mode key that accepts the ghost text (false: no mapping)
  accept_word_key = "<M-Right>", -- insert-mode key that accepts the ghost text's next word
  accept_line_key = "<M-C-Right>", -- insert-mode key that accepts the ghost text up to the end of its line
  suggest_key = "<M-\\>", -- insert-mode key that asks for ghost text now (the only way with onDemand)
  ghost_with_menu = false, -- show ghost text while the completion menu is open
  builtin_completion = false, -- Neovim 0.11+: vim.lsp.completion.enable (the menu opens as you type)
  highlight = "Comment",
  ghost_style = "auto", -- "auto" (the best this Neovim has), "builtin" (0.12+), "inline" (0.10+) or "eol"
  eol_marker = "→ ", -- before the phrase in "eol" style, so it cannot be mistaken for text
}

local client_id = nil

--- How ghost text is drawn here: "builtin" (vim.lsp.inline_completion, 0.12+), "inline" (0.10+) or "eol".
function M.ghost_style()
  local style = M.config.ghost_style
  if style == "builtin" and not (vim.lsp.inline_completion and vim.lsp.inline_completion.enable) then
    style = "auto"
  end
  if style ~= "auto" then
    return style
  end
  if vim.fn.has("nvim-0.12") == 1 and vim.lsp.inline_completion and vim.lsp.inline_completion.enable then
    return "builtin"
  end
  if vim.fn.has("nvim-0.10") == 1 then
    return "inline"
  end
  return "eol"
end
local namespace = vim.api.nvim_create_namespace("assistant_ghost")
local ghost = {} -- bufnr -> { row = , col = , text = } of the ghost text on show

local function client_config()
  return {
    name = "assistant",
    cmd = M.config.cmd,
    init_options = M.config.init_options,
    root_dir = (vim.uv or vim.loop).cwd(),
    flags = { debounce_text_changes = 50 },
  }
end

--- Start the server once (it serves every buffer); returns the client id, or nil if it cannot start.
function M.start(bufnr)
  if client_id and vim.lsp.get_client_by_id(client_id) then
    if bufnr then
      vim.lsp.buf_attach_client(bufnr, client_id)
    end
    return client_id
  end
  if vim.fn.has("nvim-0.10") == 1 and bufnr then
    client_id = vim.lsp.start(client_config(), { bufnr = bufnr }) -- 0.11 deprecates start_client
  else
    client_id = vim.lsp.start_client(client_config())
    if client_id and bufnr then
      vim.lsp.buf_attach_client(bufnr, client_id)
    end
  end
  return client_id
end

local function on_demand()
  return type(M.config.init_options) == "table" and M.config.init_options.onDemand == true
end

local function map(bufnr, key, callback, desc)
  if key then
    vim.keymap.set("i", key, callback, { buffer = bufnr, desc = desc })
  end
end

--- Attach the server to a buffer (the FileType autocommand calls this).
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local id = M.start(bufnr)
  if not id then
    return nil
  end
  if M.config.omnifunc then
    vim.bo[bufnr].omnifunc = "v:lua.vim.lsp.omnifunc"
  end
  if M.config.builtin_completion and vim.lsp.completion and vim.lsp.completion.enable then
    vim.lsp.completion.enable(true, id, bufnr, { autotrigger = true })
  end
  map(bufnr, M.config.accept_word_key, function()
    M.accept(bufnr, "word")
  end, "accept the next word of the assistant's ghost text")
  map(bufnr, M.config.accept_line_key, function()
    M.accept(bufnr, "line")
  end, "accept the assistant's ghost text up to the end of its line")
  if M.config.ghost_text and M.ghost_style() == "builtin" then
    vim.lsp.inline_completion.enable(not on_demand(), { bufnr = bufnr })
    map(bufnr, M.config.accept_key, function()
      if not vim.lsp.inline_completion.get({ bufnr = bufnr }) then
        M.accept(bufnr)
      end
    end, "accept the assistant's ghost text")
  elseif M.config.ghost_text then
    local group = vim.api.nvim_create_augroup("assistant_ghost_" .. bufnr, { clear = true })
    vim.api.nvim_create_autocmd({ "TextChangedI" }, {
      group = group,
      buffer = bufnr,
      callback = function()
        if on_demand() then
          M.clear_ghost(bufnr)
        else
          M.request_ghost(bufnr)
        end
      end,
    })
    vim.api.nvim_create_autocmd({ "TextChangedP", "CompleteChanged" }, { -- the menu is open
      group = group,
      buffer = bufnr,
      callback = function()
        if M.config.ghost_with_menu and not on_demand() then
          M.request_ghost(bufnr)
        else
          M.clear_ghost(bufnr)
        end
      end,
    })
    vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
      group = group,
      buffer = bufnr,
      callback = function()
        M.clear_ghost(bufnr)
      end,
    })
    map(bufnr, M.config.accept_key, function()
      M.accept(bufnr)
    end, "accept the assistant's ghost text")
    map(bufnr, M.config.suggest_key, function()
      M.request_ghost(bufnr, true)
    end, "ask the assistant for ghost text")
  end
  return id
end

local function client_encoding(bufnr)
  local client = client_id and vim.lsp.get_client_by_id(client_id)
  return client and client.offset_encoding or "utf-16"
end

--- Byte index in ``line`` of ``index`` code units of ``encoding`` (the API changed in 0.11).
local function byteindex(line, index, encoding)
  if encoding == "utf-8" then
    return math.min(index, #line)
  end
  if vim.fn.has("nvim-0.11") == 1 then
    return vim.str_byteindex(line, encoding, index, false)
  end
  local ok, byte = pcall(vim.str_byteindex, line, index, encoding == "utf-16")
  return ok and byte or #line
end

local function cursor_params(bufnr, invoked)
  local params = vim.lsp.util.make_position_params(0, client_encoding(bufnr))
  params.textDocument = { uri = vim.uri_from_bufnr(bufnr) }
  params.context = { triggerKind = invoked and 1 or 2 } -- Invoked (asked for) or Automatic
  return params
end

--- The text an inline item adds at the cursor: its insertText minus the partial word its range replaces.
local function addition(bufnr, item)
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local line = vim.api.nvim_buf_get_lines(bufnr, row - 1, row, false)[1] or ""
  local start = item.range and byteindex(line, item.range.start.character, client_encoding(bufnr)) or col
  local typed = line:sub(start + 1, col)
  local text = item.insertText
  if type(text) ~= "string" or text:sub(1, #typed) ~= typed then
    return nil
  end
  return text:sub(#typed + 1), row, col
end

--- Ask for the phrase at the cursor now; returns the server's InlineCompletionList (or nil).
function M.inline_completion(bufnr, timeout_ms)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local responses = vim.lsp.buf_request_sync(
    bufnr,
    "textDocument/inlineCompletion",
    cursor_params(bufnr, true),
    timeout_ms or 2000
  )
  for _, response in pairs(responses or {}) do
    if response.result then
      return response.result
    end
  end
  return nil
end

function M.clear_ghost(bufnr)
  vim.api.nvim_buf_clear_namespace(bufnr, namespace, 0, -1)
  ghost[bufnr] = nil
end

--- Draw ``text`` as ghost text at the cursor (row 1-based, col a byte index): inline where Neovim can (0.10+),
--- else after the line with the marker; the buffer's text is not changed.
local function show(bufnr, row, col, text)
  local opts
  if M.ghost_style() == "eol" then
    opts = { virt_text = { { M.config.eol_marker .. text, M.config.highlight } }, virt_text_pos = "eol" }
  else
    opts = { virt_text = { { text, M.config.highlight } }, virt_text_pos = "inline" }
  end
  vim.api.nvim_buf_set_extmark(bufnr, namespace, row - 1, col, opts)
end

--- Request a phrase in the background and show it as ghost text when the cursor is at the end of the line
--- (``invoked``: the user asked, so the server answers even with onDemand or right after a deletion).
function M.request_ghost(bufnr, invoked)
  M.clear_ghost(bufnr)
  local changedtick = vim.api.nvim_buf_get_changedtick(bufnr)
  local params = cursor_params(bufnr, invoked)
  vim.lsp.buf_request(bufnr, "textDocument/inlineCompletion", params, function(err, result)
    if err or not result or not result.items or not result.items[1] then
      return
    end
    if vim.api.nvim_get_current_buf() ~= bufnr or vim.api.nvim_buf_get_changedtick(bufnr) ~= changedtick then
      return -- the text moved on
    end
    if vim.fn.pumvisible() == 1 and not M.config.ghost_with_menu then
      return -- the completion menu is open: it has the floor
    end
    local text, row, col = addition(bufnr, result.items[1])
    local line = vim.api.nvim_buf_get_lines(bufnr, row - 1, row, false)[1] or ""
    if not text or text == "" or col ~= #line then
      return
    end
    show(bufnr, row, col, text)
    ghost[bufnr] = { row = row, col = col, text = text }
  end)
end

--- The part of ghost text ``text`` a partial accept takes: "word" (leading spaces and the next word, with the
--- punctuation glued to it), "line" (up to the end of its line), or all of it.
function M.part(text, part)
  if part == "word" then
    return text:match("^%s*[^%s]+") or text
  elseif part == "line" then
    return text:match("^[^\n]*") or text
  end
  return text
end

--- Insert the ghost text shown, or its next word or line (``part``: "word" or "line"); if none is shown, ask
--- for it now. What a partial accept leaves stays shown after the cursor.
function M.accept(bufnr, part)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local shown = ghost[bufnr]
  local text = shown and shown.row == row and shown.col == col and shown.text or nil
  if not text then
    local result = M.inline_completion(bufnr, 1000)
    if result and result.items and result.items[1] then
      text = addition(bufnr, result.items[1])
    end
  end
  M.clear_ghost(bufnr)
  if not text or text == "" then
    return
  end
  local taken = M.part(text, part)
  local lines = vim.split(taken, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row - 1, col, row - 1, col, lines)
  local end_row = row + #lines - 1
  local end_col = (#lines == 1 and col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { end_row, end_col })
  local rest = text:sub(#taken + 1)
  if rest ~= "" then
    show(bufnr, end_row, end_col, rest)
    ghost[bufnr] = { row = end_row, col = end_col, text = rest }
  end
end

--- Configure, and attach the server to buffers of the chosen file types.
function M.setup(opts)
  opts = opts or {}
  M.config = vim.tbl_deep_extend("force", M.config, opts)
  for _, list in ipairs({ "cmd", "filetypes" }) do -- lists replace, not merge
    if opts[list] then
      M.config[list] = opts[list]
    end
  end
  local group = vim.api.nvim_create_augroup("assistant_lsp", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
end

return M
