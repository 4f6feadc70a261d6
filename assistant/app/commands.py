"""Command palette provider: open any document by name (the documents of the screen the palette was opened on)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from assistant.app.documents import DocumentController


class DocumentCommands(Provider):
    """``Open: <name>`` for each document in the store."""

    def _documents(self) -> DocumentController | None:
        documents = getattr(self.screen, "documents", None)
        return documents if isinstance(documents, DocumentController) else None

    async def discover(self) -> Hits:
        documents = self._documents()
        if documents is None:
            return
        for name in documents.names():
            yield DiscoveryHit(f"Open: {name}", partial(documents.open, name), help="switch to this document")

    async def search(self, query: str) -> Hits:
        documents = self._documents()
        if documents is None:
            return
        matcher = self.matcher(query)
        for name in documents.names():
            title = f"Open: {name}"
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(documents.open, name), help="switch to this document"
                )
