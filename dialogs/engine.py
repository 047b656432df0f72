"""The conversation engine: a :class:`Dialog` of flows, and ``Dialog.advance`` -> ``Step``.

The state is plain JSON (``{"version": 1, "mode": "qa", "buttons": [[text, payload], ...]}``)
so that ``bot/`` can store it in one column and a conversation survives a restart.

The dialog is assembled once from flows (``dialogs.flow.Flow``): this module's menu, questions,
browsing and tracking, and the filing form (``dialogs.filing.FLOW``); ``bot/dialog.py`` lists
them. How a turn is routed, in order:

1. a button press (``inbound.payload``, typed text equal to a button's label, or a typed command
   such as "/hoso") goes to the handler of the payload's verb — payloads are untrusted, so
   anything that does not parse or names something no longer in the catalogue gets a polite
   "no longer valid" and the main menu (or, in a mode with an ``on_stale`` handler, that
   mode's own answer);
2. an explicit menu command ("/start", "menu") shows the main menu from any mode;
3. anything else goes to the current mode's intercepts, then to the mode's handler. The
   default mode is ``"qa"`` (free text is a question); the filing form adds its own mode.

Payloads are ``verb`` or ``verb:argument`` and fit Telegram's 64-byte callback data.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from dialogs import filing_draft, notices, qa
from dialogs.cards import (
    difference,
    render_card,
    render_details,
    render_legal,
    render_papers,
    shorten,
)
from dialogs.context import Context
from dialogs.flow import Flow, FlowConflict, Intercept, ModeHandler, Turn
from dialogs.model import (
    Button,
    ConversationKey,
    Inbound,
    ListDossiers,
    Notice,
    OfficerEvent,
    Reply,
    ResendReceipt,
    Step,
    copy_json,
)
from dialogs.texts import common as texts
from dialogs.texts import filing as filing_texts
from knowledge.dossier_code import parse_code
from knowledge.model import Channel, Procedure

STATE_VERSION = 1
PAYLOAD_BYTES = 64  # Telegram callback_data limit
FIELDS_PER_PAGE = 8
PROCEDURES_PER_PAGE = 8
BUTTON_TEXT_LENGTH = 60
MAX_PAGE_DIGITS = 4

QA = "qa"  # the default mode: where every conversation starts and the menu leads back to

MENU = "menu"
ASK = "ask"
BROWSE = "browse"
FIELD = "field"
PROCEDURE = "proc"
# The answer card's detail screens: ``<verb>:<procedure code>``.
PAPERS = "papers"
DETAILS = "info"
LEGAL = "legal"
FILE = "file"
TRACK = "track"
RECEIPT = "receipt"
OFFICER = "officer"
# An intercept under this mode sees every mode's input first (a dossier code typed anywhere).
ANY_MODE = "*"

_T = TypeVar("_T")


def new_state() -> dict[str, Any]:
    return {"version": STATE_VERSION, "mode": QA, "buttons": []}


class Dialog:
    """Every flow of the conversation, merged once at start-up (``bot/dialog.py``).

    Raises :class:`~dialogs.flow.FlowConflict` when two flows claim the same verb, mode,
    on-stale mode or command, when an on-stale handler, intercept or command points at a mode
    or verb no flow has, or when no flow has the default mode ``"qa"``.
    """

    def __init__(self, *, flows: Sequence[Flow]) -> None:
        self.flows = tuple(flows)
        self._verbs = _merged("verb", self.flows, lambda f: f.verbs)
        self._modes = _merged("mode", self.flows, lambda f: f.modes)
        self._on_stale = _merged("on-stale handler for mode", self.flows, lambda f: f.on_stale)
        self._commands = _merged("command", self.flows, lambda f: f.commands)
        intercepts: dict[str, list[Intercept]] = {}
        for flow in self.flows:
            for mode, intercept in flow.intercepts.items():
                intercepts.setdefault(mode, []).append(intercept)
        self._intercepts = {mode: tuple(found) for mode, found in intercepts.items()}
        self._captive = frozenset(mode for flow in self.flows for mode in flow.captive)
        handlers = [flow.officer_events for flow in self.flows if flow.officer_events]
        if len(handlers) > 1:
            raise FlowConflict("two flows take officer events")
        self._on_officer = handlers[0] if handlers else None
        for verb in self._verbs:
            if not verb or ":" in verb:
                raise FlowConflict(f"verb {verb!r} is empty or has a ':'")
        if QA not in self._modes:
            raise FlowConflict(f"no flow has the default mode {QA!r}")
        for kind, modes in (("on-stale handler", self._on_stale), ("intercept", intercepts)):
            for mode in modes:
                if mode not in self._modes and not (kind == "intercept" and mode == ANY_MODE):
                    raise FlowConflict(f"{kind} for mode {mode!r}, which no flow has")
        for command, payload in self._commands.items():
            if payload.partition(":")[0] not in self._verbs:
                raise FlowConflict(f"command {command!r} stands for {payload!r}: no such verb")
        for mode in self._captive:
            if mode not in self._modes:
                raise FlowConflict(f"captive mode {mode!r}, which no flow has")

    @property
    def verbs(self) -> frozenset[str]:
        return frozenset(self._verbs)

    @property
    def modes(self) -> frozenset[str]:
        return frozenset(self._modes)

    def advance(
        self,
        state: dict[str, Any] | None,
        inbound: Inbound,
        ctx: Context,
        *,
        handed_over: bool = False,
    ) -> Step:
        """React to one inbound message; never raises on user input.

        ``state`` is left as it was, unless the caller hands it over (``handed_over``: a state
        just read from the database that nobody else holds), which spares copying it each turn.
        """
        turn = Turn(state=_restore(state, handed_over, self._modes), inbound=inbound, ctx=ctx)
        payload = inbound.payload
        if payload is None:
            payload = self._commands.get(inbound.text.strip().casefold()) or _typed_button(
                turn.state, inbound.text
            )
        text = inbound.text.strip()
        if state is not None and turn.state["mode"] in self._captive:
            # Handed to an officer: everything goes to the mode, buttons and menu included.
            if payload is not None and payload != inbound.payload:
                inbound = dataclasses.replace(inbound, payload=payload)
                turn = Turn(state=turn.state, inbound=inbound, ctx=ctx)
            step = self._modes[turn.state["mode"]](turn)
        elif payload is not None:
            step = self._on_payload(turn, payload)
        elif qa.classify(text) is qa.Talk.MENU:
            step = main_menu(turn, greet=True)
        elif state is None:
            step = self._caught(turn, ANY_MODE) or _first_contact(turn, self._modes[QA])
        else:
            step = self._in_mode(turn)
        return _remember_buttons(step, turn.state)

    def on_notice(
        self,
        state: dict[str, Any] | None,
        notice: Notice,
        ctx: Context,
        *,
        handed_over: bool = False,
    ) -> Step:
        """An office event for this conversation (see dialogs.notices); pure like
        :meth:`advance`."""
        restored = _restore(state, handed_over, self._modes)
        return _remember_buttons(notices.on_notice(restored, notice, ctx), restored)

    def on_officer(
        self,
        state: dict[str, Any] | None,
        event: OfficerEvent,
        ctx: Context,
        *,
        handed_over: bool = False,
    ) -> Step:
        """An officer's answer or close in a handed-over conversation (dialogs.officer)."""
        restored = _restore(state, handed_over, self._modes)
        if self._on_officer is None:
            return Step(state=restored)
        turn = Turn(state=restored, inbound=_NO_INBOUND, ctx=ctx)
        return _remember_buttons(self._on_officer(turn, event), restored)

    def _on_payload(self, turn: Turn, payload: str) -> Step:
        step = None
        if len(payload.encode("utf-8")) <= PAYLOAD_BYTES and payload.isprintable():
            verb, _, argument = payload.partition(":")
            handler = self._verbs.get(verb)
            step = handler(turn, argument) if handler is not None else None
        if step is None:
            on_stale = self._on_stale.get(turn.state["mode"])
            if on_stale is not None:
                return on_stale(turn)
            return main_menu(turn, notice=texts.STALE_CHOICE)
        return step

    def _in_mode(self, turn: Turn) -> Step:
        mode = turn.state["mode"]
        step = self._caught(turn, ANY_MODE) or self._caught(turn, mode)
        return step if step is not None else self._modes[mode](turn)

    def _caught(self, turn: Turn, mode: str) -> Step | None:
        for intercept in self._intercepts.get(mode, ()):
            step = intercept(turn)
            if step is not None:
                return step
        return None


_NO_INBOUND = Inbound(
    key=ConversationKey("", "", ""), message_id="", received_at=datetime.min.replace(tzinfo=UTC)
)


def _merged(
    kind: str, flows: Sequence[Flow], part: Callable[[Flow], Mapping[str, _T]]
) -> dict[str, _T]:
    merged: dict[str, _T] = {}
    owners: dict[str, str] = {}
    for flow in flows:
        for name, value in part(flow).items():
            if name in owners:
                raise FlowConflict(
                    f"{kind} {name!r} is claimed by flow {owners[name]!r} and flow {flow.name!r}"
                )
            merged[name] = value
            owners[name] = flow.name
    return merged


def _restore(
    state: dict[str, Any] | None, handed_over: bool, modes: Mapping[str, ModeHandler]
) -> dict[str, Any]:
    """A private stored state; a missing, foreign or unreadable one starts afresh."""
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return new_state()
    restored: dict[str, Any] = state if handed_over else copy_json(state)
    if restored.get("mode") not in modes:
        restored["mode"] = QA
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
    turn.state["mode"] = QA
    if notice:
        text = f"{notice}\n{texts.MENU_PROMPT}"
    elif greet:
        text = texts.greeting(turn.ctx.commune)
    else:
        text = texts.MENU_PROMPT
    return Step(state=turn.state, replies=(Reply(text, buttons=_menu_buttons(turn.state)),))


def _menu_buttons(state: dict[str, Any]) -> tuple[tuple[Button, ...], ...]:
    """The four ways on, after «Tiếp tục khai» when a draft is open (also after a restart:
    the draft is in the stored state)."""
    payload = filing_draft.resume_payload(state)
    if payload is None:
        return _MENU_BUTTONS
    return ((Button(filing_texts.BTN_CONTINUE, payload),), *_MENU_BUTTONS)


def _first_contact(turn: Turn, answer_in_qa: ModeHandler) -> Step:
    text = turn.inbound.text.strip()
    if not text or qa.classify(text) is not None:
        return main_menu(turn, greet=True)
    # Someone who opens with a question wants the answer, not a menu to read first (the
    # question mode's own handler: its intercepts, such as "nộp hồ sơ …", do not run here).
    # The hello heads the answer's first message rather than being a message of its own: on
    # Zalo every message is a separate bubble and notification, and the answer is what matters.
    answer = answer_in_qa(turn)
    hello = texts.hello(turn.ctx.commune)
    if not answer.replies:
        return Step(state=answer.state, replies=(Reply(hello),), effects=answer.effects)
    first, *rest = answer.replies
    greeted = dataclasses.replace(first, text=f"{hello}\n\n{first.text}" if first.text else hello)
    return Step(state=answer.state, replies=(greeted, *rest), effects=answer.effects)


def _on_menu(turn: Turn, argument: str) -> Step | None:
    return main_menu(turn) if not argument else None


def _on_track(turn: Turn, argument: str) -> Step | None:
    """The citizen's own dossiers: the list is read by ``bot/`` (ListDossiers)."""
    if argument:
        return None
    return Step(state=turn.state, replies=(), effects=(ListDossiers(),))


def _on_receipt(turn: Turn, argument: str) -> Step | None:
    """ "Send my receipt again" from the list of the citizen's dossiers."""
    found = parse_code(argument)  # the shape only; whose it is, bot/ checks
    if found is None or found.text != argument:
        return None
    return Step(state=turn.state, replies=(), effects=(ResendReceipt(argument),))


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
    turn.state["mode"] = QA
    return _say(turn, texts.ASK_PROMPT)


def answer_question(turn: Turn) -> Step:
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
    hits = ctx.search.search(qa.query_of(text), limit=qa.SEARCH_LIMIT)
    found = qa.pick(hits, ctx.catalogue)
    if not found:
        other = ctx.search.elsewhere(qa.query_of(text))
        return _say(
            turn,
            texts.done_elsewhere(other, ctx.commune) if other else texts.dont_know(ctx.commune),
            (
                (Button(texts.BTN_BROWSE, BROWSE),),
                (Button(texts.BTN_OFFICER, OFFICER),),
                (Button(texts.BTN_MENU, MENU),),
            ),
        )
    if len(found) == 1 and qa.sure(hits):
        return _card(turn, found[0])
    rows = [(_procedure_button(p),) for p in found]
    rows += [(Button(texts.BTN_BROWSE, BROWSE),), (Button(texts.BTN_MENU, MENU),)]
    return _say(turn, which_one(found), tuple(rows))


def which_one(found: Sequence[Procedure]) -> str:
    """ "Which one?" explained: what each of them is for, in a few words."""
    return texts.which_one([(p.name, difference(p)) for p in found])


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
    """The short first answer, with buttons to its detail screens, filing and the menu."""
    text = render_card(procedure, turn.ctx.commune)
    return Step(state=turn.state, replies=(Reply(text, buttons=_card_buttons(procedure)),))


def _card_buttons(procedure: Procedure, showing: str = "") -> tuple[tuple[Button, ...], ...]:
    """Filing first (the way on), then the detail screens not on the screen now, the menu."""
    rows: list[tuple[Button, ...]] = []
    if procedure.form is not None:
        rows.append((Button(texts.BTN_FILE, f"{FILE}:{procedure.code}"),))
    details = (
        (PAPERS, texts.BTN_ALL_PAPERS, bool(procedure.papers)),
        (DETAILS, texts.BTN_DETAILS, True),
        (LEGAL, texts.BTN_LEGAL, bool(procedure.legal_basis)),
    )
    rows += [
        (Button(label, f"{verb}:{procedure.code}"),)
        for verb, label, useful in details
        if useful and verb != showing
    ]
    rows.append((Button(texts.BTN_MENU, MENU),))
    return tuple(rows)


def _card_part(
    verb: str, render: Callable[[Turn, Procedure], list[str]]
) -> Callable[[Turn, str], Step | None]:
    """A detail screen of the card, split under the message limit; the buttons come last.

    An unknown code (a forged payload, or a procedure since removed) is "no longer valid".
    """

    def on_part(turn: Turn, code: str) -> Step | None:
        procedure = turn.ctx.catalogue.get(code) if code else None
        if procedure is None:
            return None
        parts = render(turn, procedure)
        replies = [Reply(part) for part in parts[:-1]]
        replies.append(Reply(parts[-1], buttons=_card_buttons(procedure, showing=verb)))
        return Step(state=turn.state, replies=tuple(replies))

    return on_part


_on_papers = _card_part(PAPERS, lambda turn, procedure: render_papers(procedure))
_on_details = _card_part(
    DETAILS, lambda turn, procedure: render_details(procedure, turn.ctx.commune)
)
_on_legal = _card_part(LEGAL, lambda turn, procedure: render_legal(procedure))


# --- Filing elsewhere ------------------------------------------------------------------------
# The card's "Nộp hồ sơ" button (``file:<code>``) belongs to the filing flow (dialogs.filing),
# which sends a procedure without a form in the chat here.


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


# --- The flows of this module --------------------------------------------------------------

# «Gặp cán bộ» (OFFICER) belongs to the officer flow (dialogs.officer).
MENU_FLOW = Flow(name="menu", verbs={MENU: _on_menu})
QA_FLOW = Flow(
    name="qa",
    verbs={
        ASK: _on_ask,
        PROCEDURE: _on_procedure,
        PAPERS: _on_papers,
        DETAILS: _on_details,
        LEGAL: _on_legal,
    },
    modes={QA: answer_question},
)
BROWSE_FLOW = Flow(name="browse", verbs={BROWSE: _on_browse, FIELD: _on_field})
# "/hoso" is in Telegram's command menu.
TRACKING_FLOW = Flow(
    name="tracking", verbs={TRACK: _on_track, RECEIPT: _on_receipt}, commands={"/hoso": TRACK}
)


# --- The supplement a citizen sends back (dialogs.notices holds its screens) -----------------


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


SUPPLEMENT_FLOW = Flow(
    name="supplement",
    verbs={
        notices.START: _on_supplement,
        notices.DONE: lambda turn, _: notices.review(turn.state),
        notices.SEND: lambda turn, _: notices.send(turn.state),
        notices.SENT: lambda turn, code: notices.sent(turn.state, code),
        notices.CANCEL: lambda turn, _: notices.cancel(turn.state),
    },
    modes={notices.MODE: _supplement_text},
    on_stale={notices.MODE: _supplement_stale},
)
