"""Command palette provider: open any document by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from assistant.app.app import WriterApp


class DocumentCommands(Provider):
    """``Open: <name>`` for each document in the store."""

    def _documents(self) -> list[str]:
        return cast("WriterApp", self.app).document_names()

    async def discover(self) -> Hits:
        app = cast("WriterApp", self.app)
        for name in self._documents():
            yield DiscoveryHit(f"Open: {name}", partial(app.open_document, name), help="switch to this document")

    async def search(self, query: str) -> Hits:
        app = cast("WriterApp", self.app)
        matcher = self.matcher(query)
        for name in self._documents():
            title = f"Open: {name}"
            score = matcher.match(title)
            if score > 0:
                open_it = partial(app.open_document, name)
                yield Hit(score, matcher.highlight(title), open_it, help="switch to this document")
