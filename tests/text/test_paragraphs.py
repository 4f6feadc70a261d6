"""One definition of a paragraph: the personal memory, the fine-tune and the privacy filter see the same ones."""

from __future__ import annotations

from pathlib import Path

from assistant.personal.memory import PersonalMemory
from assistant.store.blocklist import Controls
from assistant.store.privacy import LearnFilter
from assistant.text.paragraphs import paragraph_hash, paragraphs
from assistant.train import finetune

TEXT = (
    "\n\nDear Anna,\r\n\r\nthe Kestrel plan is ready.\r\nIt ships Monday.  \n \n\n"
    "    indented code\n    more code\n\t\n--\n\n\n"
    "Zephyrine is our secret.\nSecond line.\n\nBest regards,\nAnna Keller\n"
)
EXPECTED = [
    "Dear Anna,",
    "the Kestrel plan is ready.\nIt ships Monday.",
    "    indented code\n    more code",
    "--",
    "Zephyrine is our secret.\nSecond line.",
    "Best regards,\nAnna Keller",
]


def test_paragraphs_are_the_text_between_blank_lines() -> None:
    assert paragraphs(TEXT) == EXPECTED
    assert paragraphs("") == [] and paragraphs(" \n\n\t\n") == []


def test_the_memory_the_finetune_and_the_privacy_filter_see_the_same_paragraphs(tmp_path: Path) -> None:
    memory = PersonalMemory.from_texts({"mail": TEXT})
    assert memory.ledger.document_paragraphs("mail") == EXPECTED
    assert finetune.paragraphs(TEXT) == EXPECTED
    assert [paragraph_hash(p) for p in EXPECTED] == memory.documents["mail"][1]

    controls = Controls.at(tmp_path)
    controls.forget("Zephyrine")
    learn = LearnFilter(filter_secrets=False, controls=controls)
    kept = [p for p in EXPECTED if "Zephyrine" not in p]
    assert paragraphs(learn.text(TEXT)) == kept
    assert finetune.paragraphs(learn.text(TEXT)) == kept
    filtered = PersonalMemory.from_texts({"mail": learn.text(TEXT)})
    assert filtered.ledger.document_paragraphs("mail") == kept
