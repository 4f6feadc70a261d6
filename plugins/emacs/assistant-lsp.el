;;; assistant-lsp.el --- The assistant language server for eglot  -*- lexical-binding: t; -*-

;; Word completion (completion-at-point, company, corfu) from `assistant lsp' in text buffers, and the phrase
;; continuation as ghost text (`assistant-lsp-ghost-mode': eglot itself does not ask for inline completions).
;; Load it after eglot, then `M-x eglot' in a text, Markdown, mail or commit-message buffer (or add
;; `eglot-ensure' to their hooks).  Tested in batch mode (tests/test_emacs.py) on Emacs 28.2 with eglot 1.9.

;;; Code:

(require 'eglot)
(require 'subr-x)

(defgroup assistant-lsp nil
  "The assistant writing assistant's language server."
  :group 'tools)

(defcustom assistant-lsp-command '("assistant" "lsp")
  "Program and arguments that start the language server."
  :type '(repeat string))

(defcustom assistant-lsp-options '(:model "personal" :candidates 5 :learnOnSave :json-false)
  "initializationOptions: :model is \"personal\", \"base\" or a model folder; :candidates the
number of words offered; :learnOnSave t copies saved documents into your personal store;
:debounceMs, :afterDelete, :minChars and :onDemand say when it suggests (see the README)."
  :type 'plist)

(defcustom assistant-lsp-modes '(text-mode markdown-mode gfm-mode message-mode mail-mode git-commit-mode)
  "Major modes served by the assistant language server."
  :type '(repeat symbol))

(defface assistant-lsp-ghost '((t :inherit shadow))
  "Face of the ghost text.")

(defun assistant-lsp-contact (&optional _interactive)
  "The eglot contact for the server: its command line and initialization options."
  (append assistant-lsp-command (list :initializationOptions assistant-lsp-options)))

(add-to-list 'eglot-server-programs (cons assistant-lsp-modes #'assistant-lsp-contact))

;;;; Ghost text

(defvar-local assistant-lsp--overlay nil
  "The overlay showing the ghost text at point, or nil.")

(defvar assistant-lsp--accepting nil
  "Non-nil while an accept inserts ghost text (its own edit asks for nothing).")

(defvar-local assistant-lsp--tick nil
  "The buffer's modification tick when the shown ghost text was asked for.")

(defun assistant-lsp-ghost-text ()
  "The ghost text shown at point, or nil."
  (when (and assistant-lsp--overlay (overlay-buffer assistant-lsp--overlay)
             (= (overlay-start assistant-lsp--overlay) (point)))
    (overlay-get assistant-lsp--overlay 'assistant-lsp-text)))

(defun assistant-lsp-clear ()
  "Hide the ghost text."
  (when assistant-lsp--overlay
    (delete-overlay assistant-lsp--overlay)
    (setq assistant-lsp--overlay nil)))

(defun assistant-lsp--show (text)
  "Show TEXT as ghost text at point (the buffer is not changed)."
  (assistant-lsp-clear)
  (let ((ov (make-overlay (point) (point) nil t nil)))
    (overlay-put ov 'after-string (propertize text 'face 'assistant-lsp-ghost 'cursor t))
    (overlay-put ov 'assistant-lsp-text text)
    (setq assistant-lsp--overlay ov)))

(defun assistant-lsp--addition (item)
  "What inline ITEM adds at point: its insertText minus the partial word its range covers."
  (let* ((text (plist-get item :insertText))
         (range (plist-get item :range))
         (start (if range (eglot--lsp-position-to-point (plist-get range :start)) (point)))
         (typed (buffer-substring-no-properties (min start (point)) (point))))
    (when (and (stringp text) (string-prefix-p typed text))
      (substring text (length typed)))))

(defun assistant-lsp-request (&optional invoked)
  "Ask for the phrase at point; show it as ghost text when it comes, if the text is as it was.
INVOKED (interactively, always) tells the server the user asked, so it answers even with :onDemand."
  (interactive (list t))
  (when-let ((server (eglot-current-server)))
    (eglot--signal-textDocument/didChange)
    (let ((buffer (current-buffer))
          (tick (buffer-chars-modified-tick))
          (where (point)))
      (jsonrpc-async-request
       server :textDocument/inlineCompletion
       (append (eglot--TextDocumentPositionParams)
               (list :context (list :triggerKind (if invoked 1 2))))
       :success-fn
       (lambda (result)
         (when (buffer-live-p buffer)
           (with-current-buffer buffer
             (let* ((items (and (listp result) (plist-get result :items)))
                    (item (and items (> (length items) 0) (elt items 0)))
                    (text (and item (assistant-lsp--addition item))))
               (when (and text (not (string-empty-p text))
                          (= tick (buffer-chars-modified-tick)) (= where (point)))
                 (setq assistant-lsp--tick tick)
                 (assistant-lsp--show text))))))
       :error-fn #'ignore
       :timeout-fn #'ignore))))

(defun assistant-lsp--part (text part)
  "The part of TEXT a partial accept takes: `word' (spaces and the next word), `line', or all."
  (pcase part
    ('word (if (string-match "\\`[[:space:]]*[^[:space:]]+" text) (match-string 0 text) text))
    ('line (if (string-match "\\`[^\n]*" text) (match-string 0 text) text))
    (_ text)))

(defun assistant-lsp-accept (&optional part)
  "Insert the ghost text (or with PART `word' or `line', its next word or line); the rest stays shown."
  (interactive)
  (when-let ((text (assistant-lsp-ghost-text)))
    (let ((taken (assistant-lsp--part text part)))
      (assistant-lsp-clear)
      (let ((assistant-lsp--accepting t))
        (insert taken))
      (let ((rest (substring text (length taken))))
        (unless (string-empty-p rest)
          (assistant-lsp--show rest))))))

(defun assistant-lsp-accept-word ()
  "Insert the next word of the ghost text."
  (interactive)
  (assistant-lsp-accept 'word))

(defun assistant-lsp-accept-line ()
  "Insert the ghost text up to the end of its line."
  (interactive)
  (assistant-lsp-accept 'line))

(defun assistant-lsp--when-shown (command)
  "A key binding that runs COMMAND only while ghost text is shown (else the key does what it did)."
  `(menu-item "" ,command :filter ,(lambda (cmd) (and (assistant-lsp-ghost-text) cmd))))

(defvar assistant-lsp-ghost-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-l") (assistant-lsp--when-shown #'assistant-lsp-accept))
    (define-key map (kbd "M-<right>") (assistant-lsp--when-shown #'assistant-lsp-accept-word))
    (define-key map (kbd "C-M-<right>") (assistant-lsp--when-shown #'assistant-lsp-accept-line))
    (define-key map (kbd "M-\\") #'assistant-lsp-request)
    map)
  "Keys of `assistant-lsp-ghost-mode': accept, accept a word, accept a line (while ghost text is shown),
and ask for ghost text now.")

(defun assistant-lsp--after-change (&rest _)
  "After an edit: hide the ghost text and, unless :onDemand, ask for a new one."
  (unless assistant-lsp--accepting
    (assistant-lsp-clear)
    (unless (eq (plist-get assistant-lsp-options :onDemand) t)
      (assistant-lsp-request))))

(define-minor-mode assistant-lsp-ghost-mode
  "Show the assistant's phrase continuation as ghost text after point while typing."
  :keymap assistant-lsp-ghost-mode-map
  (if assistant-lsp-ghost-mode
      (add-hook 'after-change-functions #'assistant-lsp--after-change nil t)
    (remove-hook 'after-change-functions #'assistant-lsp--after-change t)
    (assistant-lsp-clear)))

(provide 'assistant-lsp)
;;; assistant-lsp.el ends here
