"""The conversation engine: ``advance(state, inbound, ctx) -> Step``, a pure function.

The state is plain JSON (``{"version": 1, "mode": "qa", "buttons": [[text, payload], ...]}``)
so that ``bot/`` can store it in one column and a conversation survives a restart.

How a turn is routed, in order:

1. a button press (``inbound.payload``, or typed text equal to a button's label) goes to the
   handler of the payload's verb in :data:`ROUTES` — payloads are untrusted, so anything that
   does not parse or names something no longer in the catalogue gets a polite "no longer valid"
   and the main menu (or, in a mode listed in :data:`ON_STALE`, that mode's own answer);
2. an explicit menu command ("/start", "menu") shows the main menu from any mode;
3. anything else goes to the handler of the current mode in :data:`MODES`. Today there is one
   mode, ``"qa"`` (free text is a question); the filing form adds its own mode and verbs.

Payloads are ``verb`` or ``verb:argument`` and fit Telegram's 64-byte callback data.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dialogs import notices, qa
from dialogs.cards import render_card, shorten
from dialogs.context import Context
from dialogs.model import (
    Button,
    Inbound,
    ListDossiers,
    Notice,
    Reply,
    ResendReceipt,
    Step,
    copy_json,
)
from dialogs.texts import common as texts
from knowledge.model import Channel, Procedure

STATE_VERSION = 1
PAYLOAD_BYTES = 64  # Telegram callback_data limit
FIELDS_PER_PAGE = 8
PROCEDURES_PER_PAGE = 8
BUTTON_TEXT_LENGTH = 60
MAX_PAGE_DIGITS = 4

MENU = "menu"
ASK = "ask"
BROWSE = "browse"
FIELD = "field"
PROCEDURE = "proc"
FILE = "file"
TRACK = "track"
RECEIPT = "receipt"
OFFICER = "officer"
# The shape of a dossier code (agency code, -YYMMDD-, 4-digit number); whose it is, bot/ checks.
_DOSSIER_CODE = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{4}")

# Typed commands that act like a button from any mode (Telegram's command menu sends them).
COMMANDS = {"/hoso": TRACK}


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn being handled. ``state`` is this turn's own copy: handlers may change it."""

    state: dict[str, Any]
    inbound: Inbound
    ctx: Context


# A payload handler gets the argument after "verb:" and returns None when it is not valid.
PayloadHandler = Callable[[Turn, str], Step | None]
ModeHandler = Callable[[Turn], Step]


def new_state() -> dict[str, Any]:
    return {"version": STATE_VERSION, "mode": "qa", "buttons": []}


def advance(
    state: dict[str, Any] | None, inbound: Inbound, ctx: Context, *, handed_over: bool = False
) -> Step:
    """React to one inbound message; never raises on user input.

    ``state`` is left as it was, unless the caller hands it over (``handed_over``: a state
    just read from the database that nobody else holds), which spares copying it each turn.
    """
    turn = Turn(state=_restore(state, handed_over), inbound=inbound, ctx=ctx)
    payload = inbound.payload
    if payload is None:
        payload = COMMANDS.get(inbound.text.strip().casefold()) or _typed_button(
            turn.state, inbound.text
        )
    text = inbound.text.strip()
    if payload is not None:
        step = _on_payload(turn, payload)
    elif qa.classify(text) is qa.Talk.MENU:
        step = main_menu(turn, greet=True)
    elif state is None:
        step = _first_contact(turn)
    else:
        step = MODES.get(turn.state["mode"], _qa)(turn)
    return _remember_buttons(step, turn.state)


def _restore(state: dict[str, Any] | None, handed_over: bool) -> dict[str, Any]:
    """A private stored state; a missing, foreign or unreadable one starts afresh."""
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return new_state()
    restored: dict[str, Any] = state if handed_over else copy_json(state)
    if restored.get("mode") not in MODES:
        restored["mode"] = "qa"
    buttons = restored.get("buttons")
    if not isinstance(buttons, list) or not all(
        isinstance(b, list) and len(b) == 2 and all(isinstance(x, str) for x in b) for b in buttons
    ):
        restored["buttons"] = []
    return restored


def _remember_buttons(step: Step, previous: dict[str, Any]) -> Step:
    """Keep the buttons just shown, so that typing a button's label works like pressing it.

    A turn that shows no buttons leaves the earlier ones: they are still on the screen.
    """
    shown = [[b.text, b.payload] for reply in step.replies for b in reply.flat_buttons()]
    state = dict(step.state)
    state["buttons"] = shown or list(previous.get("buttons", []))
    return Step(state=state, replies=step.replies, effects=step.effects)


def _typed_button(state: dict[str, Any], text: str) -> str | None:
    typed = qa.fold(text)
    if not typed:
        return None
    candidates: list[tuple[str, str]] = [(label, payload) for label, payload in state["buttons"]]
    candidates += [(b.text, b.payload) for row in _MENU_ROWS for b in row]
    for label, payload in candidates:
        if typed in _label_forms(label):
            return payload
    return None


@functools.lru_cache(maxsize=4096)
def _label_forms(label: str) -> tuple[str, str]:
    # Button labels repeat on every turn; folding them once each keeps a turn cheap.
    return qa.fold(label), qa.fold(_without_count(label))


def _without_count(label: str) -> str:
    """ "Hộ tịch (41)" -> "Hộ tịch": a field button can be typed without its count."""
    head, sep, tail = label.rpartition(" (")
    return head if sep and tail.endswith(")") and tail[:-1].isdigit() else label


def _on_payload(turn: Turn, payload: str) -> Step:
    step = None
    if len(payload.encode("utf-8")) <= PAYLOAD_BYTES and payload.isprintable():
        verb, _, argument = payload.partition(":")
        handler = ROUTES.get(verb)
        step = handler(turn, argument) if handler is not None else None
    if step is None:
        on_stale = ON_STALE.get(turn.state["mode"])
        return (
            on_stale(turn) if on_stale is not None else main_menu(turn, notice=texts.STALE_CHOICE)
        )
    return step


# --- Main menu -------------------------------------------------------------------------------

_MENU_ROWS: tuple[tuple[Button, ...], ...] = (
    (Button(texts.BTN_ASK, ASK),),
    (Button(texts.BTN_BROWSE, BROWSE),),
    (Button(texts.BTN_TRACK, TRACK),),
    (Button(texts.BTN_OFFICER, OFFICER),),
    (Button(texts.BTN_MENU, MENU),),
)
_MENU_BUTTONS = _MENU_ROWS[:4]
_BACK_TO_MENU = ((Button(texts.BTN_MENU, MENU),),)


def main_menu(turn: Turn, *, greet: bool = False, notice: str = "") -> Step:
    """The four ways on. Leaves any mode: the menu is the way out of everything."""
    turn.state["mode"] = "qa"
    if notice:
        text = f"{notice}\n{texts.MENU_PROMPT}"
    elif greet:
        text = texts.greeting(turn.ctx.commune)
    else:
        text = texts.MENU_PROMPT
    return Step(state=turn.state, replies=(Reply(text, buttons=_MENU_BUTTONS),))


def _first_contact(turn: Turn) -> Step:
    text = turn.inbound.text.strip()
    if not text or qa.classify(text) is not None:
        return main_menu(turn, greet=True)
    # Someone who opens with a question wants the answer, not a menu to read first.
    answer = _qa(turn)
    hello = Reply(texts.hello(turn.ctx.commune))
    return Step(state=answer.state, replies=(hello, *answer.replies), effects=answer.effects)


def _on_menu(turn: Turn, argument: str) -> Step | None:
    return main_menu(turn) if not argument else None


def _on_track(turn: Turn, argument: str) -> Step | None:
    """The citizen's own dossiers: the list is read by ``bot/`` (ListDossiers)."""
    if argument:
        return None
    return Step(state=turn.state, replies=(), effects=(ListDossiers(),))


def _on_receipt(turn: Turn, argument: str) -> Step | None:
    """ "Send my receipt again" from the list of the citizen's dossiers."""
    if not _DOSSIER_CODE.fullmatch(argument):
        return None
    return Step(state=turn.state, replies=(), effects=(ResendReceipt(argument),))


def _on_officer(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    return _say(turn, texts.officer_soon(turn.ctx.commune), _BACK_TO_MENU)


def _say(turn: Turn, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> Step:
    return Step(state=turn.state, replies=(Reply(text, buttons=buttons),))


# --- Questions -------------------------------------------------------------------------------

_SMALL_TALK = {
    qa.Talk.THANKS: texts.THANKS_REPLY,
    qa.Talk.OK: texts.OK_REPLY,
    qa.Talk.BYE: texts.BYE_REPLY,
}


def _on_ask(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    turn.state["mode"] = "qa"
    return _say(turn, texts.ASK_PROMPT)


def _qa(turn: Turn) -> Step:
    """Free text in the default mode: small talk gets a short reply, the rest is a question."""
    text = turn.inbound.text.strip()
    if not text:
        if turn.inbound.attachments or turn.inbound.contact is not None:
            return _say(turn, texts.TEXT_ONLY, _MENU_BUTTONS)
        return main_menu(turn)
    talk = qa.classify(text)
    if talk in (qa.Talk.MENU, qa.Talk.GREETING):
        return main_menu(turn, greet=True)
    if talk is not None:
        return _say(turn, _SMALL_TALK[talk])
    ctx = turn.ctx
    found = qa.pick(ctx.search.search(qa.query_of(text), limit=qa.SEARCH_LIMIT), ctx.catalogue)
    if not found:
        return _say(
            turn,
            texts.dont_know(ctx.commune),
            (
                (Button(texts.BTN_BROWSE, BROWSE),),
                (Button(texts.BTN_OFFICER, OFFICER),),
                (Button(texts.BTN_MENU, MENU),),
            ),
        )
    if len(found) == 1:
        return _card(turn, found[0])
    rows = [(_procedure_button(p),) for p in found]
    rows += [(Button(texts.BTN_BROWSE, BROWSE),), (Button(texts.BTN_MENU, MENU),)]
    return _say(turn, texts.WHICH_ONE, tuple(rows))


# --- Browsing by field -----------------------------------------------------------------------


def field_key(field: str) -> str:
    """A short, stable name for a field in payloads: field names run to 100 bytes."""
    return hashlib.sha1(field.encode("utf-8"), usedforsecurity=False).hexdigest()[:10]


def _page_of(argument: str) -> int | None:
    if not argument:
        return 1
    if not argument.isdigit() or len(argument) > MAX_PAGE_DIGITS or int(argument) < 1:
        return None
    return int(argument)


def _pages(count: int, per_page: int, wanted: int) -> tuple[int, int]:
    """(page, pages), the page clamped: a catalogue reload may have shortened the list."""
    pages = max(1, math.ceil(count / per_page))
    return min(wanted, pages), pages


def _nav_row(prefix: str, page: int, pages: int) -> tuple[tuple[Button, ...], ...]:
    row = []
    if page > 1:
        row.append(Button(texts.BTN_PREVIOUS, f"{prefix}{page - 1}"))
    if page < pages:
        row.append(Button(texts.BTN_MORE, f"{prefix}{page + 1}"))
    return (tuple(row),) if row else ()


def _on_browse(turn: Turn, argument: str) -> Step | None:
    wanted = _page_of(argument)
    if wanted is None:
        return None
    fields = turn.ctx.catalogue.fields()
    if not fields:
        return _say(turn, texts.NO_FIELDS, _BACK_TO_MENU)
    page, pages = _pages(len(fields), FIELDS_PER_PAGE, wanted)
    shown = fields[(page - 1) * FIELDS_PER_PAGE : page * FIELDS_PER_PAGE]
    rows = [
        (
            Button(
                shorten(texts.field_button(name, count), BUTTON_TEXT_LENGTH), _field_payload(name)
            ),
        )
        for name, count in shown
    ]
    return _say(
        turn,
        texts.fields_title(page, pages),
        (*rows, *_nav_row(f"{BROWSE}:", page, pages), *_BACK_TO_MENU),
    )


def _field_payload(field: str, page: int = 1) -> str:
    key = field_key(field)
    return f"{FIELD}:{key}" if page == 1 else f"{FIELD}:{key}:{page}"


def _on_field(turn: Turn, argument: str) -> Step | None:
    key, _, page_text = argument.partition(":")
    wanted = _page_of(page_text)
    field = next((f for f, _ in turn.ctx.catalogue.fields() if field_key(f) == key), None)
    if wanted is None or field is None:
        return None
    procedures = turn.ctx.catalogue.by_field(field)
    page, pages = _pages(len(procedures), PROCEDURES_PER_PAGE, wanted)
    shown = procedures[(page - 1) * PROCEDURES_PER_PAGE : page * PROCEDURES_PER_PAGE]
    return _say(
        turn,
        texts.field_title(field, len(procedures), page, pages),
        (
            *((_procedure_button(p),) for p in shown),
            *_nav_row(f"{FIELD}:{key}:", page, pages),
            (Button(texts.BTN_OTHER_FIELDS, BROWSE),),
            *_BACK_TO_MENU,
        ),
    )


# --- Answer card -----------------------------------------------------------------------------


def _procedure_button(procedure: Procedure) -> Button:
    return Button(shorten(procedure.name, BUTTON_TEXT_LENGTH), f"{PROCEDURE}:{procedure.code}")


def _on_procedure(turn: Turn, code: str) -> Step | None:
    procedure = turn.ctx.catalogue.get(code) if code else None
    return _card(turn, procedure) if procedure is not None else None


def _card(turn: Turn, procedure: Procedure) -> Step:
    rows: list[tuple[Button, ...]] = []
    if procedure.form is not None:
        rows.append((Button(texts.BTN_FILE, f"{FILE}:{procedure.code}"),))
    rows += [(Button(texts.BTN_ASK_OTHER, ASK),), (Button(texts.BTN_MENU, MENU),)]
    parts = render_card(procedure, turn.ctx.commune)
    replies = [Reply(part) for part in parts[:-1]]
    replies.append(Reply(parts[-1], buttons=tuple(rows)))
    return Step(state=turn.state, replies=tuple(replies))


# --- Filing ----------------------------------------------------------------------------------


def _on_file(turn: Turn, code: str) -> Step | None:
    """The card's "Nộp hồ sơ" button; ``dialogs.filing`` replaces this route with the form."""
    procedure = turn.ctx.catalogue.get(code) if code else None
    return file_elsewhere(turn, procedure) if procedure is not None else None


def file_elsewhere(turn: Turn, procedure: Procedure) -> Step:
    """How to file a procedure that has no form in the chat: online, by post, in person."""
    commune = turn.ctx.commune
    lines = [texts.FILING_SOON]
    if procedure.full_online or procedure.has_channel(Channel.ONLINE):
        lines.append(texts.FILING_ONLINE)
    if procedure.has_channel(Channel.POST):
        lines.append(texts.FILING_POST)
    if procedure.handled_by:
        lines.append(texts.filing_in_person(procedure.handled_by))
    else:
        office, *contact = texts.contact_lines(commune)
        lines.append(texts.filing_in_person(office))
        lines.extend(contact)
    return _say(
        turn,
        "\n".join(lines),
        (
            (Button(texts.BTN_ASK_OTHER, ASK),),
            (Button(texts.BTN_MENU, MENU),),
        ),
    )


ROUTES: dict[str, PayloadHandler] = {
    MENU: _on_menu,
    ASK: _on_ask,
    BROWSE: _on_browse,
    FIELD: _on_field,
    PROCEDURE: _on_procedure,
    FILE: _on_file,
    TRACK: _on_track,
    RECEIPT: _on_receipt,
    OFFICER: _on_officer,
}

MODES: dict[str, ModeHandler] = {
    "qa": _qa,
}

# A mode may keep the user where they are when a payload is not understood (a half-filled form
# should not be dropped for a stale button); other modes fall back to the menu.
ON_STALE: dict[str, ModeHandler] = {}


def on_notice(
    state: dict[str, Any] | None, notice: Notice, ctx: Context, *, handed_over: bool = False
) -> Step:
    """An office event for this conversation (see dialogs.notices); pure like ``advance``."""
    restored = _restore(state, handed_over)
    return _remember_buttons(notices.on_notice(restored, notice, ctx), restored)


def _on_supplement(turn: Turn, argument: str) -> Step | None:
    code, _, what = argument.partition(":")
    if what == "more":
        return notices.more(turn.state)
    return notices.start(turn.state, code)


def _supplement_text(turn: Turn) -> Step:
    step = notices.on_message(turn.state, turn.inbound.text, turn.inbound.attachments)
    return step if step is not None else main_menu(turn)


def _supplement_stale(turn: Turn) -> Step:
    step = notices.more(turn.state)
    return step if step is not None else main_menu(turn, notice=texts.STALE_CHOICE)


ROUTES.update(
    {
        notices.START: _on_supplement,
        notices.DONE: lambda turn, _: notices.review(turn.state),
        notices.SEND: lambda turn, _: notices.send(turn.state),
        notices.SENT: lambda turn, code: notices.sent(turn.state, code),
        notices.CANCEL: lambda turn, _: notices.cancel(turn.state),
    }
)
MODES[notices.MODE] = _supplement_text
ON_STALE[notices.MODE] = _supplement_stale

# The filing form registers its payload verbs and mode in the dicts above when imported; it
# needs this module's Turn and main menu, so it is imported last.
import dialogs.filing  # noqa: E402, F401
