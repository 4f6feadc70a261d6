"""The mixing's per-word records are reused only where the words they depend on are unchanged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.engine.records import RecentRecords


def row_of(words: list[str], i: int, reach: int) -> tuple[float, ...]:
    """A row that depends on word ``i`` and the ``reach`` words before it (and on nothing else)."""
    context = " ".join(words[max(0, i - reach) : i + 1])
    return (float(hash(context) % 1000), float(i >= reach))


edits = st.lists(
    st.tuples(st.sampled_from(["append", "pop", "change"]), st.integers(0, 50), st.sampled_from("abcde")),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(edits, st.integers(1, 12))
def test_rows_equal_rows_from_scratch_after_any_edits(steps: list[tuple[str, int, str]], count: int) -> None:
    reach = 3
    records = RecentRecords(reach=reach, width=2)
    words: list[str] = list("abcab")
    for op, at, word in steps:
        if op == "append":
            words.append(word)
        elif op == "pop" and words:
            words.pop()
        elif words:
            words[at % len(words)] = word
        n = min(count, len(words))
        got = records.rows(words, n, "key", lambda i: row_of(words, i, reach))
        assert got.tolist() == [list(row_of(words, i, reach)) for i in range(len(words) - n, len(words))]


def test_a_growing_text_computes_one_row_per_new_word() -> None:
    records = RecentRecords(reach=3, width=2)
    words = [f"w{i % 7}" for i in range(300)]
    for n in range(250, 300):
        records.rows(words[:n], 200, "key", lambda i: row_of(words, i, 3))
    assert records.computed == 200 + 49


def test_other_sources_recompute_every_row() -> None:
    records = RecentRecords(reach=3, width=2)
    words = [f"w{i}" for i in range(50)]
    records.rows(words, 20, "before", lambda i: row_of(words, i, 3))
    records.rows(words, 20, "after", lambda i: row_of(words, i, 3))
    assert records.computed == 40
