" The assistant language server in Vim, through vim-lsp or ALE (whichever is installed).
" Options: g:assistant_lsp_cmd (default ['assistant', 'lsp']), g:assistant_lsp_filetypes,
" g:assistant_lsp_options (the server's initializationOptions).
if exists('g:loaded_assistant_lsp')
  finish
endif
let g:loaded_assistant_lsp = 1

let g:assistant_lsp_cmd = get(g:, 'assistant_lsp_cmd', ['assistant', 'lsp'])
let g:assistant_lsp_filetypes = get(g:, 'assistant_lsp_filetypes', ['text', 'markdown', 'gitcommit', 'mail'])
let g:assistant_lsp_options = get(g:, 'assistant_lsp_options',
      \ {'model': 'personal', 'candidates': 5, 'learnOnSave': v:false})

" vim-lsp (https://github.com/prabirshrestha/vim-lsp)
function! s:register_vim_lsp() abort
  call lsp#register_server({
        \ 'name': 'assistant',
        \ 'cmd': {server_info -> g:assistant_lsp_cmd},
        \ 'allowlist': g:assistant_lsp_filetypes,
        \ 'initialization_options': g:assistant_lsp_options,
        \ })
endfunction

augroup assistant_lsp
  autocmd!
  autocmd User lsp_setup call s:register_vim_lsp()
augroup END

" ALE (https://github.com/dense-analysis/ale): completion needs `let g:ale_completion_enabled = 1` before ALE loads.
function! s:buffer_folder(buffer) abort
  return fnamemodify(bufname(a:buffer), ':p:h')
endfunction

if exists('g:loaded_ale') || !empty(globpath(&runtimepath, 'autoload/ale/linter.vim'))
  for s:filetype in g:assistant_lsp_filetypes
    call ale#linter#Define(s:filetype, {
          \ 'name': 'assistant',
          \ 'lsp': 'stdio',
          \ 'executable': g:assistant_lsp_cmd[0],
          \ 'command': join(map(copy(g:assistant_lsp_cmd), 'shellescape(v:val)'), ' '),
          \ 'project_root': function('s:buffer_folder'),
          \ 'initialization_options': g:assistant_lsp_options,
          \ })
  endfor
endif
