;;; assistant-lsp.el --- The assistant language server for eglot  -*- lexical-binding: t; -*-

;; Word completion (completion-at-point, company, corfu) from `assistant lsp' in text buffers.
;; Load it after eglot, then `M-x eglot' in a text, Markdown, mail or commit-message buffer (or add
;; `eglot-ensure' to their hooks).

;;; Code:

(require 'eglot)

(defgroup assistant-lsp nil
  "The assistant writing assistant's language server."
  :group 'tools)

(defcustom assistant-lsp-command '("assistant" "lsp")
  "Program and arguments that start the language server."
  :type '(repeat string))

(defcustom assistant-lsp-options '(:model "personal" :candidates 5 :learnOnSave :json-false)
  "initializationOptions: :model is \"personal\", \"base\" or a model folder; :candidates the
number of words offered; :learnOnSave t copies saved documents into your personal store."
  :type 'plist)

(defcustom assistant-lsp-modes '(text-mode markdown-mode gfm-mode message-mode mail-mode git-commit-mode)
  "Major modes served by the assistant language server."
  :type '(repeat symbol))

(defun assistant-lsp-contact (&optional _interactive)
  "The eglot contact for the server: its command line and initialization options."
  (append assistant-lsp-command (list :initializationOptions assistant-lsp-options)))

(add-to-list 'eglot-server-programs (cons assistant-lsp-modes #'assistant-lsp-contact))

(provide 'assistant-lsp)
;;; assistant-lsp.el ends here
