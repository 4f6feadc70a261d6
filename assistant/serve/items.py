"""The engine's suggestions as LSP results: completion items and inline (ghost text) items.

Both replace the partial word before the cursor: their range runs from the start of that word to the cursor (an
empty range at the cursor after a separator), and their text is the whole word, so a client that filters by the
typed word keeps them.
"""

from __future__ import annotations

from lsprotocol import types

from assistant.engine.predictor import Suggestions
from assistant.serve.positions import UTF16, units


def word_range(cursor: types.Position, prefix: str, encoding: str = UTF16) -> types.Range:
    """The range of the partial word ``prefix`` that ends at ``cursor`` (a word holds no line break, so it starts
    on the cursor's line, ``prefix``'s code units before it: no need to read the line)."""
    start = types.Position(line=cursor.line, character=cursor.character - units(prefix, encoding))
    return types.Range(start=start, end=cursor)


def percent(probability: float) -> str:
    """A probability for people: three significant digits, as a percentage."""
    return f"{100 * probability:.3g}%"


def completion_list(cursor: types.Position, result: Suggestions, encoding: str = UTF16) -> types.CompletionList | None:
    """Word candidates best first (``sortText`` keeps the order), their probability in ``detail``.

    The list is marked incomplete: the candidates after the next keystroke are not a subset of these.
    """
    if not result.words:
        return None
    where = word_range(cursor, result.prefix, encoding)
    items = [
        types.CompletionItem(
            label=c.word,
            kind=types.CompletionItemKind.Text,
            detail=percent(c.probability),
            sort_text=f"{rank:04d}",
            filter_text=c.word,
            text_edit=types.TextEdit(range=where, new_text=result.separator + c.word),
            insert_text_format=types.InsertTextFormat.PlainText,
            preselect=rank == 0,
        )
        for rank, c in enumerate(result.words)
    ]
    return types.CompletionList(is_incomplete=True, items=items)


def inline_list(
    cursor: types.Position, result: Suggestions, encoding: str = UTF16
) -> types.InlineCompletionList | None:
    """The phrase continuation as one inline item; without a phrase, the rest of the best word being typed."""
    if result.phrase is not None:
        rest = result.phrase.text
    elif result.words and result.prefix:
        rest = result.completions[0]
    else:
        rest = ""
    if not rest:
        return None
    item = types.InlineCompletionItem(
        insert_text=result.prefix + rest, range=word_range(cursor, result.prefix, encoding)
    )
    return types.InlineCompletionList(items=[item])
