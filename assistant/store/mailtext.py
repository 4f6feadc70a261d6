"""The writer's own words of one mail body: quoted replies, "On ... wrote:" lines, forwarded and original
messages, signatures and HTML markup taken out.

Hand-written (about a page) after trying the libraries on real-looking threads: ``mail-parser-reply`` cuts the
writer's own prose (a paragraph starting "Thanks, that works" and everything after it is taken for a signature,
and so is a hyphen list), and ``quotequail`` keeps the "On ... wrote:" line and the forwarded headers and knows
no signatures; neither leaves only the writer's words without a second pass like this one.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

WROTE_LINE = re.compile(
    r"^\s*(?:On|Le|Am|El|Il|Op|Em|W dniu|Den|På)\b.{0,300}?"
    r"(?:wrote|a écrit|schrieb|escribió|ha scritto|scrisse|schreef|escreveu|napisał|skrev)(?:\s+\S.{0,150}?)?\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
"""An attribution line before a quote, in the languages mail clients write it (may wrap over two lines)."""

FORWARD_MARK = re.compile(
    r"^\s*(?:-{2,}\s*(?:Forwarded message|Original Message|Message transféré|Message d'origine|"
    r"Weitergeleitete Nachricht|Ursprüngliche Nachricht|Mensaje reenviado|Mensaje original)\s*-*"
    r"|Begin forwarded message:|Début du message réexpédié :|Anfang der weitergeleiteten Nachricht:"
    r"|_{10,})\s*$",
    re.IGNORECASE,
)
"""Where a forwarded or original message starts: the rest of the body is someone else's."""

HEADER_LINE = re.compile(r"^\s*\*?(?:From|De|Von|Van|Da|Od|Från|Fra)\s*:\*?\s+\S", re.IGNORECASE)
NEXT_HEADER = re.compile(
    r"^\s*\*?(?:Sent|Date|To|Subject|Cc|Envoyé|Objet|À|Gesendet|Datum|An|Betreff|Enviado|Fecha|Para|Asunto)\s*:",
    re.IGNORECASE,
)
"""An Outlook-style quoted header block (``From: ...`` then ``Sent:``/``To:``...): the rest is quoted."""

SIGNATURE_MARK = re.compile(r"^(?:-- ?|--|__+)\s*$")
"""The signature separator ("-- "), and the lone dashes some clients write instead."""

SENT_FROM = re.compile(
    r"^\s*(?:Sent from my |Get Outlook for |Envoyé de mon |Von meinem .* gesendet|Enviado desde mi )"
)


def own_words(body: str) -> str:
    """The writer's paragraphs of a plain-text body, blank-line separated (``""`` when none are left)."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if FORWARD_MARK.match(line) or SIGNATURE_MARK.match(line) or SENT_FROM.match(line):
            break
        if HEADER_LINE.match(line) and any(NEXT_HEADER.match(nxt) for nxt in lines[i + 1 : i + 4]):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    kept = _drop_attributions(kept)
    return "\n\n".join(paragraphs("\n".join(kept)))


def _drop_attributions(lines: list[str]) -> list[str]:
    """Lines without the "On ... wrote:" attributions (one line, or one wrapped over two)."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if WROTE_LINE.match(lines[i]):
            i += 1
            continue
        if i + 1 < len(lines) and lines[i].strip() and WROTE_LINE.match(lines[i] + " " + lines[i + 1]):
            i += 2
            continue
        out.append(lines[i])
        i += 1
    return out


def paragraphs(text: str) -> list[str]:
    """Non-empty blank-line separated paragraphs, each with its line breaks and without trailing spaces."""
    return [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]


class _HTMLText(HTMLParser):
    """HTML to plain text: block elements break lines; scripts, styles and quoted blocks are left out."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"})
    SKIP = frozenset({"script", "style", "head", "title", "blockquote"})
    QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote", "divRplyFwdMsg")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip: list[str] = []
        """Open elements whose content is left out (innermost last)."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            if tag == self._skip[0] and tag not in ("br",):
                self._skip.append(tag)
            return
        values = " ".join(v or "" for k, v in attrs if k in ("class", "id"))
        if tag in self.SKIP or any(c in values for c in self.QUOTE_CLASSES):
            self._skip.append(tag)
            return
        if tag in ("p", "div", "table", "ul", "ol"):
            self.parts.append("\n\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            return
        if tag in ("p", "div", "table", "ul", "ol"):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str) -> str:
    """The visible text of an HTML body (quoted blocks left out), paragraphs separated by blank lines."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
