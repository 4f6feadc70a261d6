"""The Textual writing app (``assistant`` with no arguments): editor with ghost text, documents, learning."""
