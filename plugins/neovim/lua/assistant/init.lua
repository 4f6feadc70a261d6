-- The assistant language server in Neovim 0.7+ (built-in LSP client, no plugins needed).
--
--   require("assistant").setup({})   -- see README.md for every option
--
-- Word completion arrives through the LSP omnifunc (<C-x><C-o>) or any completion plugin; the phrase
-- continuation (textDocument/inlineCompletion) is shown as ghost text and accepted with the accept key:
-- Neovim 0.12+ with vim.lsp.inline_completion draws it itself; 0.10+ draws it inline, right after the cursor;
-- older versions cannot draw text inside a line (end-of-line virtual text starts one cell after the line, so
-- "doing w" + "ell" looked like "doing w ell"), so there it is a dim hint after a marker: "doing w  → ell going".

local M = {}

M.config = {
  cmd = { "assistant", "lsp" },
  filetypes = { "text", "markdown", "gitcommit", "mail" },
  init_options = { model = "personal", candidates = 5, learnOnSave = false },
  omnifunc = true, -- set 'omnifunc' to vim.lsp.omnifunc in attached buffers
  ghost_text = true, -- ask for a phrase after each change in insert mode and show it as ghost text
  accept_key = "<C-l>", -- insert-mode key that accepts the ghost text (false: no mapping)
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

--- Start the server once (it serves every buffer); returns the client id, or nil if it cannot start.
function M.start()
  if client_id and vim.lsp.get_client_by_id(client_id) then
    return client_id
  end
  client_id = vim.lsp.start_client({
    name = "assistant",
    cmd = M.config.cmd,
    init_options = M.config.init_options,
    root_dir = vim.loop.cwd(),
    flags = { debounce_text_changes = 50 },
  })
  return client_id
end

--- Attach the server to a buffer (the FileType autocommand calls this).
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local id = M.start()
  if not id then
    return nil
  end
  vim.lsp.buf_attach_client(bufnr, id)
  if M.config.omnifunc then
    vim.api.nvim_buf_set_option(bufnr, "omnifunc", "v:lua.vim.lsp.omnifunc")
  end
  if M.config.ghost_text and M.ghost_style() == "builtin" then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
    if M.config.accept_key then
      vim.api.nvim_buf_set_keymap(bufnr, "i", M.config.accept_key, "", {
        callback = function()
          if not vim.lsp.inline_completion.get({ bufnr = bufnr }) then
            M.accept(bufnr)
          end
        end,
        noremap = true,
        desc = "accept the assistant's ghost text",
      })
    end
  elseif M.config.ghost_text then
    local group = vim.api.nvim_create_augroup("assistant_ghost_" .. bufnr, { clear = true })
    vim.api.nvim_create_autocmd({ "TextChangedI", "TextChangedP" }, {
      group = group,
      buffer = bufnr,
      callback = function()
        M.request_ghost(bufnr)
      end,
    })
    vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
      group = group,
      buffer = bufnr,
      callback = function()
        M.clear_ghost(bufnr)
      end,
    })
    if M.config.accept_key then
      vim.api.nvim_buf_set_keymap(bufnr, "i", M.config.accept_key, "", {
        callback = function()
          M.accept(bufnr)
        end,
        noremap = true,
        desc = "accept the assistant's ghost text",
      })
    end
  end
  return id
end

local function cursor_params(bufnr)
  local params = vim.lsp.util.make_position_params()
  params.textDocument = { uri = vim.uri_from_bufnr(bufnr) }
  params.context = { triggerKind = 2 } -- automatic
  return params
end

--- The text an inline item adds at the cursor: its insertText minus the partial word its range replaces.
local function addition(bufnr, item)
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local line = vim.api.nvim_buf_get_lines(bufnr, row - 1, row, false)[1] or ""
  local start = item.range and vim.str_byteindex(line, item.range.start.character, true) or col
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
    cursor_params(bufnr),
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

--- Request a phrase in the background and show it as ghost text when the cursor is at the end of the line.
function M.request_ghost(bufnr)
  M.clear_ghost(bufnr)
  local changedtick = vim.api.nvim_buf_get_changedtick(bufnr)
  vim.lsp.buf_request(bufnr, "textDocument/inlineCompletion", cursor_params(bufnr), function(err, result)
    if err or not result or not result.items or not result.items[1] then
      return
    end
    if vim.api.nvim_get_current_buf() ~= bufnr or vim.api.nvim_buf_get_changedtick(bufnr) ~= changedtick then
      return -- the text moved on
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

--- Insert the ghost text shown (or, if none is shown, ask for it now).
function M.accept(bufnr)
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
  if text and text ~= "" then
    vim.api.nvim_buf_set_text(bufnr, row - 1, col, row - 1, col, { text })
    vim.api.nvim_win_set_cursor(0, { row, col + #text })
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
