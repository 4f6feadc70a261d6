"""A real Emacs: batch-mode Emacs with eglot and plugins/emacs/assistant-lsp.el attached to ``assistant lsp``.

Runs where ``emacs`` and eglot are installed (`.ci/run` installs Debian's ``emacs-nox`` 28.2 and ``elpa-eglot``
1.9): eglot's word completion (``completion-at-point``), and the config's own ghost text with its partial
accepts. lsp-mode's inline completion is not tested: Debian's ``elpa-lsp-mode`` is 8.0, which has none.
"""

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

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "emacs"
TYPED = "Dear team, The meeting has been mov"

SCRIPT = r"""
(setq debug-on-error t)
(add-to-list 'load-path PLUGIN)
(require 'assistant-lsp)
(setq assistant-lsp-command (list PYTHON "-m" "assistant" "lsp"))
(setq assistant-lsp-options '(:model "base" :candidates 5))
(defun done (result)
  (with-temp-file OUT (insert (json-encode result)))
  (ignore-errors (eglot-shutdown (eglot-current-server)))
  (kill-emacs 0))
(defun wait-for (pred)
  (let ((n 0)) (while (and (not (funcall pred)) (< n 600)) (accept-process-output nil 0.05) (setq n (1+ n))))
  (funcall pred))
(find-file FILE)
(text-mode)
(goto-char (point-max))
(insert "The meeting has been mov")
(eglot '(text-mode) (cons 'transient default-directory) 'eglot-lsp-server (assistant-lsp-contact) "text")
(wait-for (lambda () (eglot-current-server)))
(let* ((capf (eglot-completion-at-point))
       (table (nth 2 capf))
       (words (all-completions (buffer-substring-no-properties (nth 0 capf) (nth 1 capf)) table))
       (sort (cdr (assq 'display-sort-function (cdr (funcall table "" nil 'metadata)))))
       (result (list (cons 'words (vconcat (funcall sort words))) (cons 'emacs emacs-version))))
  (assistant-lsp-ghost-mode 1)
  (assistant-lsp-request)
  (push (cons 'shown (wait-for #'assistant-lsp-ghost-text)) result)
  (push (cons 'ghost (assistant-lsp-ghost-text)) result)
  (push (cons 'before (buffer-string)) result)
  (assistant-lsp-accept-word)
  (push (cons 'after_word (buffer-string)) result)
  (push (cons 'rest (or (assistant-lsp-ghost-text) "")) result)
  (assistant-lsp-accept-line)
  (push (cons 'after_line (buffer-string)) result)
  (push (cons 'ghost_after (or (assistant-lsp-ghost-text) "")) result)
  (done result))
"""


def lisp_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Emacs Lisp string literal for these paths


def emacs_has_eglot() -> bool:
    if shutil.which("emacs") is None:
        return False
    probe = subprocess.run(
        ["emacs", "--batch", "--eval", '(progn (require \'eglot) (princ "ok"))'],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return probe.stdout.strip() == "ok"


@pytest.mark.skipif(not emacs_has_eglot(), reason="Emacs with eglot is not installed")
def test_emacs_eglot_completes_words_and_shows_ghost_text_accepted_by_parts(tmp_path: Path) -> None:
    note = tmp_path / "notes.txt"
    note.write_text("Dear team, ", encoding="utf-8")
    out = tmp_path / "result.json"
    values = {"OUT": out, "PYTHON": sys.executable, "PLUGIN": PLUGIN, "FILE": note}
    header = "".join(f"(defvar {k} {lisp_string(str(v))})\n" for k, v in values.items())
    script = tmp_path / "test.el"
    script.write_text(header + SCRIPT, encoding="utf-8")
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    proc = subprocess.run(
        ["emacs", "--batch", "-l", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.exists(), f"Emacs wrote no result (exit {proc.returncode}): {proc.stderr[-3000:]}"
    result = json.loads(out.read_text(encoding="utf-8"))

    torch.set_num_threads(1)
    expected = Predictor(load_model(base_model_dir()), ngram=NgramSource.shared(base_model_dir())).suggest(TYPED, 5)
    assert result["words"] == [c.word for c in expected.words] and "moved" in result["words"]

    assert expected.phrase is not None
    addition = expected.phrase.text
    assert result["shown"] and result["ghost"] == addition
    assert result["before"] == TYPED  # ghost text is not text until accepted
    word = addition[: len(addition) - len(addition.lstrip())]
    word += addition.lstrip().split()[0]
    assert result["after_word"] == TYPED + word
    assert result["rest"] == addition[len(word) :]
    assert result["after_line"] == TYPED + addition and result["ghost_after"] == ""
