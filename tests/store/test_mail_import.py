"""Mail import: mbox files and Maildir folders become one document per message holding only the writer's words."""

from __future__ import annotations

import mailbox
import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from assistant.store.documents import DocumentStore
from assistant.store.mail import mailbox_kind, read_mailbox
from assistant.store.mailtext import html_to_text, own_words

ME = "anna.berg@example.com"
OTHERS = ["tom@example.org", "lena@example.net", "marc@example.fr"]
SIGNATURE = "Anna Berg\nKestrel Project | +44 20 7946 0000"

SUBJECTS = ["plan", "budget", "the review", "Friday", "room booking", "draft", "release", "slides", "travel"]
SENTENCES = [
    "Thanks, that works for me and I will bring the printed copies.",
    "I moved the review to Thursday afternoon so that Lena can join us.",
    "The budget is nearly final; only the travel line is still open.",
    "Could you send me the latest draft of the Kestrel plan when you have a moment?",
    "I read your notes twice and agree with most of them.",
    "Best, I think, is to wait until the numbers are in.",
    "We should keep the first section short and put the details in an appendix.",
    "The room on the third floor is free from two until four.",
    "Let me know if anything changes before the meeting.",
    "I have attached nothing yet, because the figures are still moving.",
]
OTHER_WORDS = "Quoted words from someone else that must never be learned: zanzibar quokka ferrule."


def _own(rng: random.Random, k: int) -> list[str]:
    """``k`` paragraphs of the writer's own words."""
    return [" ".join(rng.sample(SENTENCES, rng.randint(1, 3))) for _ in range(k)]


def _message(sender: str, to: str, subject: str, when: datetime, n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Someone <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<m{n}@example.com>"
    return msg


def make_threads(count: int = 50, seed: int = 3) -> tuple[list[EmailMessage], list[list[str]]]:
    """``count`` threads (a message from someone else, the writer's reply quoting it, with a signature; every
    fifth reply HTML-only, every seventh a forward) and, per writer's message, the paragraphs to keep."""
    rng = random.Random(seed)
    messages: list[EmailMessage] = []
    expected: list[list[str]] = []
    start = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    for t in range(count):
        other = OTHERS[t % len(OTHERS)]
        subject = f"{SUBJECTS[t % len(SUBJECTS)]} {t}"
        when = start + timedelta(days=t)
        first = _message(other, ME, subject, when, 2 * t)
        first.set_content(f"Hi Anna,\n\n{OTHER_WORDS}\n\nTom\n")
        messages.append(first)
        own = _own(rng, rng.randint(1, 3))
        reply = _message(ME, other, f"Re: {subject}", when + timedelta(hours=2), 2 * t + 1)
        if t % 7 == 3:  # a forward: a note on top of someone else's message
            reply.replace_header("Subject", f"Fwd: {subject}")
            body = "\n\n".join(own) + "\n\n---------- Forwarded message ---------\n"
            body += f"From: Tom <{other}>\nDate: Mon, 3 Mar 2025\nSubject: {subject}\nTo: <{ME}>\n\n{OTHER_WORDS}\n"
            reply.set_content(body)
        elif t % 5 == 0:  # HTML only, with the quote in a gmail_quote block
            html = "".join(f"<p>{p}</p>" for p in own) + f"<div>-- <br>{SIGNATURE.replace(chr(10), '<br>')}</div>"
            html += f'<div class="gmail_quote"><div>On Mon, Tom wrote:</div><blockquote>{OTHER_WORDS}</blockquote>'
            html += "</div>"
            reply.set_content(f"<html><body>{html}</body></html>", subtype="html")
        else:
            body = "\n\n".join(own) + f"\n\n{SIGNATURE}\n\n"
            if t % 2:
                body = "\n\n".join(own) + f"\n\n-- \n{SIGNATURE}\n\n"
            body += f"On Mon, 3 Mar 2025 at 10:12, Tom Baker <{other}>\nwrote:\n"
            body += "".join(f"> {line}\n" for line in f"Hi Anna,\n\n{OTHER_WORDS}\n\nTom".split("\n"))
            reply.set_content(body)
        messages.append(reply)
        expected.append(own)
    return messages, expected


def write_mbox(path: Path, messages: list[EmailMessage]) -> Path:
    box = mailbox.mbox(path)
    for m in messages:
        box.add(m)
    box.flush()
    box.close()
    return path


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    return DocumentStore(tmp_path / "home" / "documents")


def _texts(store: DocumentStore) -> dict[str, str]:
    return {d.name: store.read(d.name) for d in store.list()}


def test_fifty_threads_keep_exactly_the_writers_own_paragraphs(tmp_path: Path, store: DocumentStore) -> None:
    messages, expected = make_threads()
    box = write_mbox(tmp_path / "sent.mbox", messages)
    results = store.import_paths([box], 5_000_000, mail_from=[ME.upper()])
    imported = [r for r in results if r.status == "imported"]
    skipped = [r for r in results if r.status == "skipped"]
    dupes = [r for r in results if r.status == "duplicate"]
    assert not [r for r in results if r.status == "refused"]
    assert sum(r.count for r in skipped) == 50 and "not sent from your addresses" in skipped[0].detail
    assert len(imported) + len(dupes) == 50
    texts = _texts(store)
    got = sorted(p for t in texts.values() for p in t.strip().split("\n\n"))
    want = sorted({"\n\n".join(own): own for own in expected}.values(), key=str)  # same text twice is a duplicate
    assert got == sorted(p for own in want for p in own)
    assert len(texts) == len(want) == len(imported)
    joined = "\n".join(texts.values())
    for foreign in ("zanzibar", "wrote", "Forwarded", "Kestrel Project", "From:", ">", "<p>"):
        assert foreign not in joined
    assert "2025-03-04 Re budget 1.txt" in texts  # named by date and subject

    again = store.import_paths([box], 5_000_000, mail_from=[ME])
    assert not [r for r in again if r.status == "imported"]
    assert len([r for r in again if r.status == "duplicate"]) == 50
    assert _texts(store) == texts


def test_without_addresses_every_message_is_kept_but_not_quotes(tmp_path: Path, store: DocumentStore) -> None:
    messages, _ = make_threads(6)
    box = write_mbox(tmp_path / "all.mbox", messages)
    results = store.import_paths([box], 5_000_000)
    texts = _texts(store)
    assert "Quoted words from someone else" in "\n".join(texts.values())  # the others' own mails are theirs
    assert sum(r.status == "imported" for r in results) + sum(r.status == "duplicate" for r in results) == 12


def test_a_maildir_folder_is_read(tmp_path: Path, store: DocumentStore) -> None:
    messages, expected = make_threads(4)
    md = mailbox.Maildir(tmp_path / "Sent", create=True)
    for m in messages:
        md.add(m)
    md.close()
    assert mailbox_kind(tmp_path / "Sent") == "maildir"
    results = store.import_paths([tmp_path / "Sent"], 5_000_000, mail_from=[ME])
    assert sum(r.status == "imported" for r in results) == len({"\n\n".join(e) for e in expected})


def test_a_signature_repeated_without_a_separator_is_dropped_from_every_copy() -> None:
    closing = "Cheers,\nAnna"
    msgs = []
    for i in range(4):
        m = _message(ME, "tom@example.org", f"note {i}", datetime(2025, 1, 1 + i, tzinfo=UTC), i)
        m.set_content(f"{SENTENCES[i]}\n\n{closing}\n")
        msgs.append(m)
    with_closing = _message(ME, "x@example.org", "alone", datetime(2025, 2, 1, tzinfo=UTC), 9)
    with_closing.set_content("Only this.\n")
    msgs.append(with_closing)
    return_path = Path(__import__("tempfile").mkdtemp()) / "s.mbox"
    read = read_mailbox(write_mbox(return_path, msgs), "mbox")
    assert [m.text for m in read.messages] == [f"{s}\n" for s in SENTENCES[:4]] + ["Only this.\n"]


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("Yes.\n\nOn Tue, 4 Mar 2025, Tom <t@x.org> wrote:\n> Can you?\n", "Yes."),
        ("Oui.\n\nLe mar. 4 mars 2025 à 10:00, Marc <m@x.fr> a écrit :\n> Tu viens ?\n", "Oui."),
        ("Ja.\n\nAm Di., 4. März 2025 um 10:00 Uhr schrieb Jan <j@x.de>:\n> Kommst du?\n", "Ja."),
        ("Sí.\n\nEl mar, 4 mar 2025 a las 10:00, Ana (<a@x.es>) escribió:\n> ¿Vienes?\n", "Sí."),
        ("> Friday?\nYes, Friday.\n\n> Room?\nRoom 4.\n", "Yes, Friday.\n\nRoom 4."),
        ("Fine.\n\n-----Original Message-----\nFrom: Tom\nSent: Monday\nTo: Anna\n\nOld text\n", "Fine."),
        ("Fine.\n\nFrom: Tom <t@x.org>\nSent: Monday\nTo: Anna\nSubject: RE\n\nOld text\n", "Fine."),
        (
            "The list:\n- one\n- two\n\nThanks, that helps.\n\nSent from my phone\n",
            "The list:\n- one\n- two\n\nThanks, that helps.",
        ),
    ],
)
def test_own_words_of_a_body(body: str, kept: str) -> None:
    assert own_words(body) == kept


def test_html_is_reduced_to_text_without_quotes() -> None:
    html = "<html><head><style>p{}</style></head><body><p>One &amp; two.</p><p>Three<br>four</p>"
    html += '<blockquote type="cite">quoted</blockquote></body></html>'
    assert html_to_text(html) == "One & two.\n\nThree\nfour"


# -- bad input: a line in the report, nothing lost -------------------------------------------------------------


def test_a_truncated_mbox_keeps_every_message_and_says_so(tmp_path: Path, store: DocumentStore) -> None:
    messages, _ = make_threads(3)
    last = _message(ME, "tom@example.org", "cut", datetime(2025, 5, 1, tzinfo=UTC), 99)
    last.set_content("A first paragraph that arrived.\n")
    last.add_attachment(b"x" * 3000, maintype="application", subtype="octet-stream", filename="a.bin")
    box = write_mbox(tmp_path / "cut.mbox", [*messages, last])
    data = box.read_bytes()
    box.write_bytes(data[: len(data) - 1500])  # cut inside the attachment
    results = store.import_paths([box], 5_000_000, mail_from=[ME])
    cut = [r for r in results if "truncated" in r.detail]
    assert len(cut) == 1 and cut[0].status == "imported"
    assert "A first paragraph that arrived." in store.read(cut[0].detail.split(" (")[0])
    assert sum(r.status in ("imported", "duplicate") for r in results) == 4


def test_a_file_that_is_not_mail_is_imported_as_text_or_refused(tmp_path: Path, store: DocumentStore) -> None:
    prose = tmp_path / "notes.txt"
    prose.write_text("From the start of the week the plan was clear.\nNothing else: here.\n")
    assert mailbox_kind(prose) is None
    binary = tmp_path / "photo.mbox"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    results = store.import_paths([prose, binary], 5_000_000)
    assert [r.status for r in results] == ["imported", "refused"]
    assert store.read("notes.txt").startswith("From the start")


def test_a_maildir_with_broken_messages_reports_each_and_keeps_the_rest(tmp_path: Path, store: DocumentStore) -> None:
    messages, expected = make_threads(3)
    md = mailbox.Maildir(tmp_path / "Mail", create=True)
    for m in messages:
        md.add(m)
    md.close()
    (tmp_path / "Mail" / "cur" / "garbage:2,S").write_bytes(b"\x00\x01\x02 not a mail at all\n\n\xff\xfe")
    unreadable = tmp_path / "Mail" / "new" / "locked"
    unreadable.write_bytes(b"From: a@b.c\n\nx\n")
    unreadable.chmod(0)
    try:
        results = store.import_paths([tmp_path / "Mail"], 5_000_000, mail_from=[ME])
    finally:
        unreadable.chmod(0o600)
    refused = [r.detail for r in results if r.status == "refused"]
    assert any("not a mail message" in d for d in refused)
    import os

    if os.geteuid() != 0:  # root reads any file
        assert any("cannot be read" in d for d in refused)
    assert sum(r.status == "imported" for r in results) == len({"\n\n".join(e) for e in expected})


def test_odd_charsets_are_read_and_noted(tmp_path: Path, store: DocumentStore) -> None:
    good = _message(ME, "marc@example.fr", "réunion", datetime(2025, 6, 1, tzinfo=UTC), 1)
    good.set_content("Je serai à la réunion de jeudi.\n", charset="iso-8859-1", cte="quoted-printable")
    raw_wrong = (
        f"From: {ME}\nTo: x@example.org\nSubject: wrong\nDate: Mon, 2 Jun 2025 10:00:00 +0000\n"
        "Message-ID: <w@x>\nContent-Type: text/plain; charset=x-no-such-charset\n\n"
    ).encode() + "Grüße aus München, bis Freitag.\n".encode("cp1252")
    box = write_mbox(tmp_path / "cs.mbox", [good])
    with box.open("ab") as f:
        f.write(b"\nFrom x@example.org Mon Jun  2 10:00:00 2025\n" + raw_wrong + b"\n")
    results = store.import_paths([box], 5_000_000, mail_from=[ME])
    texts = _texts(store)
    assert "Je serai à la réunion de jeudi.\n" in texts.values()
    assert "Grüße aus München, bis Freitag.\n" in texts.values()
    assert any("x-no-such-charset" in r.detail for r in results if r.status == "imported")


def test_cli_import_from_setting_and_flag_and_secrets_stay_out_of_learning(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from assistant.store.settings import Settings

    home = tmp_path / "home"
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    mine = _message(ME, "tom@example.org", "token", datetime(2025, 7, 1, tzinfo=UTC), 1)
    mine.set_content(f"The Snorkelwhip deploy token is {secret} for now.\n\nOn Mon, Tom wrote:\n> send it\n")
    theirs = _message("tom@example.org", ME, "ask", datetime(2025, 7, 1, tzinfo=UTC), 2)
    theirs.set_content("Please send the token.\n")
    box = write_mbox(tmp_path / "mail.mbox", [mine, theirs])
    settings = Settings()
    settings.import_.mail_from = [ME]
    config = Settings.load(settings.save(home / "config").parent)
    assert config.import_.mail_from == [ME] and not config.problems

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True)

    out = cli("import", str(box))
    assert out.returncode == 0, out.stderr
    assert "1 imported" in out.stdout and "1 skipped" in out.stdout and "not sent from your addresses" in out.stdout
    again = cli("import", "--from", "tom@example.org", "--from", ME, str(box))
    assert "1 imported, 1 duplicate" in again.stdout
    vocab = cli("vocab")
    assert "Snorkelwhip" in vocab.stdout  # the writer's words are learned ...
    assert secret not in vocab.stdout and "ghp_" not in vocab.stdout  # ... the secret is not
