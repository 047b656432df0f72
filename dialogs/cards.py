"""The answer card: what a citizen needs to know about one procedure, as chat messages.

The first answer fits one phone screen (360 px wide): the name, the main papers, fee, time,
where, and whether it can be filed online or by post, in at most :data:`FIRST_LINES` short
lines and :data:`SCREEN_ROWS` rows as a phone wraps them. The full paper list, the details and
the legal basis are separate screens behind the card's buttons (:func:`render_papers`,
:func:`render_details`, :func:`render_legal`).

Everything is plain text (no markup, so no channel can mangle it). A chat message holds at most
4,096 characters (Telegram counts UTF-16 code units), so a long detail screen is split at
paragraph, then line, then word boundaries.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata

from dialogs import qa
from dialogs.context import CommuneFacts
from dialogs.texts import common as texts
from knowledge.model import Channel, Fee, LegalRef, Paper, Procedure

MESSAGE_LIMIT = 4096
# The first answer fits one phone screen. The web chat is the tightest: its 19 px text wraps at
# about 28 characters on a 360 px phone, and 20 rows (plus the header and the input box) fill
# a 740 px screen. So: at most 12 lines (name, the papers' head, five papers, "… và N giấy
# khác", fee, time, where, online/post), each at most 56 characters (two rows) but fee and time
# (84, three rows: "10.000 đồng nếu nộp trực tuyến; 20.000 đồng nếu nộp trực tiếp" must not
# lose its second half), at most 20 rows in all; when long paper names would need more, fewer
# papers are named. The procedure's code is on the detail screens.
FIRST_LINES = 12
FIRST_PAPERS = 5
LINE_LENGTH = 56
LONG_LINE_LENGTH = 84
SCREEN_ROW = 28
SCREEN_ROWS = 20
LEGAL_REF_LENGTH = 300

# A paper needed only in some cases ("Trường hợp ủy quyền...", "chỉ khi nhờ người khác ...").
_SOMETIMES = ("truong hop ", "neu ", "chi khi ", "doi voi ", "khi ")
# "+ ", "- ", "a) ", "(iv) ", "(1.3) ", "2. " in front of imported texts.
_LIST_MARK = re.compile(
    r"^(?:[+\-–•*]+\s*|\(?(?:[0-9]+(?:\.[0-9]+)*|[a-zđ]|[ivx]+)\)\s*|[0-9]+\.\s+)"
)
# "... quyết định. - Người nộp ...": a list run together into one text.
_INNER_MARK = re.compile(r"([.;:])\s+[+\-–•]\s+")
_CLAUSE_END = re.compile(r"(?<=\S)[;.]\s")


def render_card(procedure: Procedure, commune: CommuneFacts) -> str:
    """The first answer: one short message (see :data:`FIRST_LINES`, :data:`SCREEN_ROWS`)."""
    rest = [
        _first_fee(procedure.fee),
        _first_time(procedure),
        texts.card_where(shorten(_office(procedure, commune), LINE_LENGTH - 10)),
        _first_ways(procedure),
    ]
    name = shorten(procedure.name, LINE_LENGTH)
    for most in range(FIRST_PAPERS, 0, -1):
        lines = [name, *_first_papers(procedure.papers, most), *rest]
        if screen_rows(lines) <= SCREEN_ROWS:
            break
    return unicodedata.normalize("NFC", "\n".join(line for line in lines if line))


def screen_rows(lines: list[str], width: int = SCREEN_ROW) -> int:
    """How many rows ``lines`` take when wrapped at ``width`` characters, as a phone does."""
    return sum(max(1, len(textwrap.wrap(line, width))) for line in lines if line)


def render_papers(procedure: Procedure) -> list[str]:
    """Every paper, filed and shown, with counts, forms and when each is needed."""
    return _screen(procedure, [_papers(procedure.papers)])


def render_details(procedure: Procedure, commune: CommuneFacts) -> list[str]:
    """What the first answer leaves out: summary, the whole fee and time, results, contact."""
    paragraphs = [
        procedure.summary,
        _fee(procedure.fee),
        _time(procedure),
        texts.card_results("; ".join(procedure.results)) if procedure.results else "",
        _where(procedure, commune),
        _ways(procedure),
        texts.CARD_DISCLAIMER,
    ]
    return _screen(procedure, paragraphs)


def render_legal(procedure: Procedure) -> list[str]:
    """The legal basis in full, one instrument a line."""
    refs = [
        f"{texts.BULLET} {shorten(_legal_ref(ref), LEGAL_REF_LENGTH)}"
        for ref in procedure.legal_basis
    ]
    paragraphs = ["\n".join([texts.CARD_LEGAL, *refs]) if refs else texts.CARD_NO_LEGAL]
    if procedure.fee is not None and procedure.fee.basis.strip():
        paragraphs.append(texts.card_fee_basis(" ".join(procedure.fee.basis.split())))
    if procedure.decision_no.strip():
        paragraphs.append(texts.card_decision(procedure.decision_no.strip()))
    paragraphs.append(texts.CARD_DISCLAIMER)
    return _screen(procedure, paragraphs)


def _screen(procedure: Procedure, paragraphs: list[str]) -> list[str]:
    head = texts.card_head(procedure.name, procedure.code)
    return split_text("\n\n".join(p.strip() for p in (head, *paragraphs) if p.strip()))


# --- The first answer ----------------------------------------------------------------------


def _first_papers(papers: tuple[Paper, ...], most: int) -> list[str]:
    """Up to ``most`` papers everyone needs; papers needed only in some cases are left to the full
    list (listed bare, they would read as required), unless every paper is such a one. Papers
    that read the same once shortened (one per case in imported records) are shown, and
    counted among the others, once."""
    if not papers:
        return [texts.CARD_PAPERS_UNKNOWN]
    always = [p for p in papers if not _sometimes(p)]
    shown: dict[str, Paper] = {}
    for paper in always or papers:
        shown.setdefault(_first_paper_line(paper), paper)
        if len(shown) == most:
            break
    lines = [texts.CARD_PAPERS_FIRST, *shown]
    hidden = {line: p for p in papers if (line := _first_paper_line(p)) not in shown}
    if hidden:
        sometimes = all(map(_sometimes, hidden.values()))
        lines.append(texts.card_more_papers(len(hidden), only_sometimes=sometimes))
    return lines


def _sometimes(paper: Paper) -> bool:
    name = qa.fold(_LIST_MARK.sub("", " ".join(paper.name.split())))
    note = qa.fold(_LIST_MARK.sub("", " ".join(paper.note.split())))
    return (
        f"{name} ".startswith(_SOMETIMES) or f"{note} ".startswith(_SOMETIMES) or "neu co" in name
    )


def _first_paper_line(paper: Paper) -> str:
    mark = texts.CARD_SHOWN_MARK if paper.show_only else ""
    room = LINE_LENGTH - len(texts.CHECKBOX) - 1 - len(mark)
    return f"{texts.CHECKBOX} {brief(paper.name, room)}{mark}"


def _first_fee(fee: Fee | None) -> str:
    if fee is None:
        return texts.CARD_FEE_UNKNOWN
    room = LONG_LINE_LENGTH - len(texts.card_fee(""))
    if fee.text.strip():
        return texts.card_fee(brief(fee.text, room, label=texts.FEE_LABEL, first_clause=False))
    if fee.amount_vnd:
        return texts.card_fee(texts.vnd(fee.amount_vnd))
    if fee.amount_vnd == 0 and not fee.set_by_province:
        return texts.CARD_FEE_FREE
    if fee.set_by_province:
        return texts.CARD_FEE_ONLY_BY_PROVINCE
    return texts.CARD_FEE_UNKNOWN


def _first_time(procedure: Procedure) -> str:
    room = LONG_LINE_LENGTH - len(texts.card_time_brief(""))
    if procedure.processing_text.strip():
        return texts.card_time_brief(brief(procedure.processing_text, room, first_clause=False))
    if procedure.processing_days is not None:
        return texts.card_time_brief(texts.working_days(procedure.processing_days))
    return texts.CARD_TIME_BRIEF_UNKNOWN


def _office(procedure: Procedure, commune: CommuneFacts) -> str:
    return " ".join(procedure.handled_by.split()) or texts.commune_office(commune)


def _first_ways(procedure: Procedure) -> str:
    online = ""
    if procedure.full_online:
        online = texts.ONLINE_YES
    elif procedure.has_channel(Channel.ONLINE):
        online = texts.ONLINE_PART if procedure.full_online is False else texts.ONLINE_YES
    elif procedure.channels or procedure.full_online is False:
        online = texts.ONLINE_NO
    return texts.card_ways_brief(online, procedure.has_channel(Channel.POST))


def brief(text: str, limit: int, label: str = "", *, first_clause: bool = True) -> str:
    """The gist of ``text`` in at most ``limit`` characters: no list mark, no ``label:`` the
    line already says, nothing in brackets, only the first clause (a paper's name: what follows
    is when and how) unless ``first_clause`` is off (a fee's or a time's later clauses may be
    the alternative: "...; 20.000 đồng nếu nộp trực tiếp"); "…" only where a word was cut.
    The detail screens say all of it."""
    whole = " ".join(text.split())
    plain = _LIST_MARK.sub("", whole)
    if label and qa.fold(plain).startswith(qa.fold(label)) and ":" in plain[: len(label) + 2]:
        plain = _LIST_MARK.sub("", plain.split(":", 1)[1].strip())
    plain = _INNER_MARK.sub(r"\1 ", _without_brackets(plain) or plain)
    head = _CLAUSE_END.split(plain, maxsplit=1)[0] if first_clause else plain
    head = head.rstrip(" .,;:")
    return shorten(head or whole, limit)


def _without_brackets(text: str) -> str:
    out: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(char)
    return re.sub(r"\s+([,;.:])", r"\1", " ".join("".join(out).split()))


# --- The detail screens --------------------------------------------------------------------


def _papers(papers: tuple[Paper, ...]) -> str:
    filed = [p for p in papers if not p.show_only]
    shown = [p for p in papers if p.show_only]
    if not papers:
        return texts.CARD_PAPERS_UNKNOWN
    blocks = []
    if filed:
        blocks.append("\n".join([texts.CARD_PAPERS, *(_paper_line(p) for p in filed)]))
    if shown:
        blocks.append("\n".join([texts.CARD_SHOW_ONLY, *(_paper_line(p) for p in shown)]))
    return "\n".join(blocks)


def _paper_line(paper: Paper) -> str:
    name, form, note = (" ".join(s.split()) for s in (paper.name, paper.form, paper.note))
    line = f"{texts.CHECKBOX} {name}"
    amount = texts.paper_amount(paper.count, paper.copy_kind.strip())
    if amount:
        line += f" ({amount})"
    # A form named after the paper itself ("Tờ khai ..." / "Tờ khai ... (TT 04/2024)") says
    # nothing new; only a differently named template is worth the extra words.
    if form and name not in form and form not in name:
        line += f", {texts.paper_form(form)}"
    if note:
        line += f", {note}"
    return line


def _fee(fee: Fee | None) -> str:
    if fee is None:
        return texts.CARD_FEE_UNKNOWN
    lines = []
    if fee.text:
        lines.append(texts.card_fee(fee.text))
    elif fee.amount_vnd:
        lines.append(texts.card_fee(texts.vnd(fee.amount_vnd)))
    elif fee.amount_vnd == 0 and not fee.set_by_province:
        lines.append(texts.CARD_FEE_FREE)
    if fee.set_by_province:
        lines.append(texts.CARD_FEE_BY_PROVINCE if lines else texts.CARD_FEE_ONLY_BY_PROVINCE)
    if not lines:
        lines.append(texts.CARD_FEE_UNKNOWN)
    if fee.exemptions:
        lines.append(texts.CARD_FEE_EXEMPT)
        lines.extend(f"{texts.BULLET} {exemption}" for exemption in fee.exemptions)
    return "\n".join(lines)


def _time(procedure: Procedure) -> str:
    if procedure.processing_text:
        return texts.card_time(procedure.processing_text)
    if procedure.processing_days is not None:
        return texts.card_time(texts.working_days(procedure.processing_days))
    return texts.CARD_TIME_UNKNOWN


def _where(procedure: Procedure, commune: CommuneFacts) -> str:
    if procedure.handled_by:
        lines = [texts.card_where(procedure.handled_by)]
        if commune.hotline:
            lines.append(texts.card_ask_commune(commune))
        return "\n".join(lines)
    lines = [texts.card_where(texts.commune_office(commune))]
    if commune.address:
        lines.append(texts.card_address(commune.address))
    if commune.office_hours:
        lines.append(texts.card_hours(commune.office_hours))
    if commune.hotline:
        lines.append(texts.card_hotline(commune.hotline))
    return "\n".join(lines)


def _ways(procedure: Procedure) -> str:
    lines = []
    online = procedure.has_channel(Channel.ONLINE)
    if procedure.full_online:
        lines.append(texts.CARD_ONLINE_FULL)
    elif online:
        lines.append(
            texts.CARD_ONLINE_PART if procedure.full_online is False else texts.CARD_ONLINE
        )
    elif procedure.channels or procedure.full_online is False:
        # Channels are listed and online is not among them: saying "not online" is a fact.
        lines.append(texts.CARD_ONLINE_NO)
    if procedure.has_channel(Channel.POST):
        lines.append(texts.CARD_POST_FILING)
    if procedure.result_by_post is True:
        lines.append(texts.CARD_RESULT_BY_POST)
    elif procedure.result_by_post is False:
        lines.append(texts.CARD_RESULT_NOT_BY_POST)
    return "\n".join(lines)


def _legal_ref(ref: LegalRef) -> str:
    if not ref.code or ref.code in ref.title:
        return ref.title
    return f"{ref.title} {ref.code}"


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, marked with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(texts.ELLIPSIS)]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–") + texts.ELLIPSIS


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split into messages of at most ``limit`` UTF-16 units, at paragraph, line, word breaks.

    The text is NFC-normalised first: decomposed Vietnamese would count double.
    """
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        return []
    return [chunk for chunk in _split(text, limit, ("\n\n", "\n", " ")) if chunk]


def _split(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    if utf16_length(text) <= limit:
        return [text.strip()]
    if not separators:
        return _hard_cut(text, limit)
    separator, finer = separators[0], separators[1:]
    pieces = [
        piece
        for part in text.split(separator)
        if part.strip()
        for piece in _split(part.strip(), limit, finer)
    ]
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if utf16_length(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _hard_cut(text: str, limit: int) -> list[str]:
    """Last resort for a single "word" longer than a message (a pasted URL, say)."""
    chunks: list[str] = []
    current: list[str] = []
    units = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if units + width > limit:
            chunks.append("".join(current))
            current, units = [], 0
        current.append(char)
        units += width
    if current:
        chunks.append("".join(current))
    return chunks


DIFFERENCE_LENGTH = 90


def difference(procedure: Procedure) -> str:
    """A few words that tell a procedure from its neighbours: its summary's first sentence."""
    first = procedure.summary.split(". ")[0].strip().rstrip(".")
    return shorten(first, DIFFERENCE_LENGTH) if first else ""
