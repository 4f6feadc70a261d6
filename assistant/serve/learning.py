"""Learning from saved documents (opt-in): a saved file's text goes into the personal document store."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from assistant.personal.space import UserSpace
from assistant.store.documents import Document, safe_name


def document_name(uri: str, stored: list[Document]) -> str:
    """The store name for a document: the one it was saved under before, else its file name made safe and
    unique (``notes (2).md`` when another file's ``notes.md`` is stored already)."""
    for doc in stored:
        if doc.source == uri:
            return doc.name
    name = safe_name(PurePosixPath(unquote(urlparse(uri).path)).name)
    taken = {d.name for d in stored}
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, dot, suffix = name, "", ""
    candidate, k = name, 2
    while candidate in taken:
        candidate = f"{stem} ({k}){dot}{suffix}"
        k += 1
    return candidate


def learn(uri: str, text: str, space: UserSpace) -> str:
    """Save ``text`` as the user's copy of the document at ``uri``; returns the name it is stored under."""
    return space.save_for_source(uri, document_name(uri, []), text).name
