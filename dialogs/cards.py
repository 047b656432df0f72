"""The answer card: everything a citizen needs to know about one procedure, as chat messages.

The card is plain text (no markup, so no channel can mangle it) in short paragraphs. A chat
message holds at most 4,096 characters (Telegram counts UTF-16 code units), so a long card is
split at paragraph, then line, then word boundaries.
"""

from __future__ import annotations

import unicodedata

from dialogs.context import CommuneFacts
from dialogs.texts import common as texts
from knowledge.model import Channel, Fee, LegalRef, Paper, Procedure

MESSAGE_LIMIT = 4096
LEGAL_REFS_SHOWN = 3
LEGAL_REF_LENGTH = 100


def render_card(procedure: Procedure, commune: CommuneFacts) -> list[str]:
    """The card as one or more messages, each at most :data:`MESSAGE_LIMIT` long."""
    paragraphs = [
        f"{procedure.name}\n{texts.card_code(procedure.code)}",
        procedure.summary,
        _papers(procedure.papers),
        _fee(procedure.fee),
        _time(procedure),
        texts.card_results("; ".join(procedure.results)) if procedure.results else "",
        _where(procedure, commune),
        _ways(procedure),
        _legal(procedure.legal_basis),
        texts.CARD_DISCLAIMER,
    ]
    return split_text("\n\n".join(p.strip() for p in paragraphs if p.strip()))


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


def _legal(refs: tuple[LegalRef, ...]) -> str:
    if not refs:
        return ""
    shown = [shorten(_legal_ref(ref), LEGAL_REF_LENGTH) for ref in refs[:LEGAL_REFS_SHOWN]]
    return texts.card_legal(shown, more=len(refs) - len(shown))


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
