""" "Gặp cán bộ": the conversation handed to the commune's officers, and back.

From anywhere in a conversation (the «Gặp cán bộ» button, or typed words such as "gặp cán bộ",
"nói chuyện với cán bộ", "gap can bo") the conversation goes to the officers' live inbox in
the console. While it is there (mode ``officer``, a captive mode: buttons and menu commands
come here too) the assistant stays silent: what the citizen sends is kept in the transcript
for the officer (``bot/`` records every line with the step's save), and only the first
message gets a short acknowledgement. The officer's answers arrive as
:class:`~dialogs.model.OfficerEvent`\\ s; the assistant takes over again when the officer
closes the conversation, when nobody wrote for ``ctx.handoff_idle``, or when the citizen
presses «Quay lại trợ lý», and says so. The mode the citizen came from is kept (a half-filled
form), and the form is offered again when the assistant is back.

Outside office hours (``ctx.officers_from``) the citizen is told when an officer will answer,
and may leave one message (mode ``officer_note``), which waits in the inbox, marked.

```mermaid
stateDiagram-v2
    [*] --> officer: «Gặp cán bộ» in office hours (HandOff open)
    [*] --> officer_note: «Gặp cán bộ» out of hours
    officer_note --> [*]: message left (HandOff wait), «Quay lại trợ lý»
    officer --> officer: citizen writes (silent), officer answers
    officer --> [*]: officer closes, idle, «Quay lại trợ lý» (HandOff close)
    [*] --> officer: an officer answers a message left out of hours
```
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dialogs import engine, qa
from dialogs.filing_draft import SHORT_ID, draft_summary, read_draft
from dialogs.filing_screens import FORM
from dialogs.flow import Flow, Turn
from dialogs.model import Button, HandOff, OfficerEvent, Reply, Step
from dialogs.texts import common as ctexts
from dialogs.texts import filing as ftexts
from dialogs.texts import officer as texts

MODE = "officer"
NOTE = "officer_note"
END = "officerend"
KEY = "officer"
MODES = frozenset({MODE, NOTE})
_END = ((Button(texts.BTN_BACK, END),),)
_PHRASES = (
    "gap can bo",
    "noi chuyen voi can bo",
    "noi chuyen can bo",
    "hoi can bo",
    "lien he can bo",
    "nhan tin can bo",
    "nhan tin voi can bo",
    "gap nguoi that",
    "gap nhan vien",
)
_MAX_WORDS = 10


def asks_for_officer(text: str) -> bool:
    """Typed words asking for a person: "gặp cán bộ", "cho tôi nói chuyện với cán bộ"."""
    folded = qa.fold(text)
    if not folded or len(folded.split()) > _MAX_WORDS:
        return False
    padded = f" {folded} "
    return any(f" {phrase} " in padded for phrase in _PHRASES)


def _intercept(turn: Turn) -> Step | None:
    if turn.inbound.attachments or not asks_for_officer(turn.inbound.text):
        return None
    return start(turn)


def _on_officer(turn: Turn, argument: str) -> Step | None:
    return None if argument else start(turn)


def start(turn: Turn) -> Step:
    state, ctx = turn.state, turn.ctx
    mode = state["mode"]
    back = mode if mode not in MODES else engine.QA
    opens = ctx.officers_from(ctx.now) if ctx.officers_from is not None else None
    now = ctx.now.isoformat()
    if opens is None:
        state[KEY] = {"back": back, "since": now, "last": now, "acked": False}
        state["mode"] = MODE
        return Step(
            state=state,
            replies=(Reply(texts.HANDED_OVER, buttons=_END),),
            effects=(HandOff("open"),),
        )
    state[KEY] = {"back": back, "since": now, "opens": opens.isoformat()}
    state["mode"] = NOTE
    return Step(state=state, replies=(Reply(texts.closed_now(opens, ctx.now), buttons=_END),))


def _info(state: dict[str, Any]) -> dict[str, Any]:
    info = state.get(KEY)
    if not isinstance(info, dict):
        info = {"back": engine.QA}
        state[KEY] = info
    return info


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _leave(turn: Turn, notice: str) -> tuple[Reply, ...]:
    """Back to the mode the citizen came from; the replies saying so, with the half-filled
    form offered again (or the main menu)."""
    state = turn.state
    info = state.pop(KEY, None)
    back = info.get("back") if isinstance(info, dict) else None
    state["mode"] = back if isinstance(back, str) and back not in MODES else engine.QA
    draft = draft_summary(state)
    found = read_draft(state)
    if draft is not None and found is not None:
        payload = ":".join([FORM, str(found["id"])[:SHORT_ID], "resume"])
        text = f"{notice}\n{ftexts.kept_for_later(draft.name)}"
        buttons = (
            (Button(ftexts.BTN_CONTINUE, payload),),
            (Button(ctexts.BTN_MENU, engine.MENU),),
        )
        return (Reply(text, buttons=buttons),)
    menu = engine.main_menu(turn, notice=notice)
    state["mode"] = engine.QA
    return menu.replies


def _wants_out(turn: Turn) -> bool:
    payload = turn.inbound.payload
    if payload is not None:
        return payload in (END, engine.MENU)
    return qa.classify(turn.inbound.text) is qa.Talk.MENU


def _live(turn: Turn) -> Step:
    """Handed over: the officer reads; the assistant is silent but for the first message."""
    state, ctx = turn.state, turn.ctx
    if _wants_out(turn):
        return Step(
            state=state, replies=_leave(turn, texts.BACK_BY_CITIZEN), effects=(HandOff("close"),)
        )
    info = _info(state)
    last = _time(info.get("last"))
    if last is not None and ctx.now - last > ctx.handoff_idle:
        # Nobody wrote for a while (the idle job closes the officer's side).
        return Step(state=state, replies=_leave(turn, texts.BACK_IDLE), effects=(HandOff("close"),))
    info["last"] = ctx.now.isoformat()
    if turn.inbound.payload == engine.OFFICER:
        return Step(state=state, replies=(Reply(texts.STILL_WITH_OFFICER, buttons=_END),))
    if not info.get("acked"):
        info["acked"] = True
        return Step(state=state, replies=(Reply(texts.RELAYED, buttons=_END),))
    return Step(state=state)


def _note(turn: Turn) -> Step:
    """Out of hours: the one message left for the officers."""
    state, ctx = turn.state, turn.ctx
    if _wants_out(turn):
        return Step(state=state, replies=_leave(turn, texts.BACK_BY_CITIZEN))
    if turn.inbound.payload is not None or not (
        turn.inbound.text.strip() or turn.inbound.attachments
    ):
        return Step(state=state, replies=(Reply(texts.NOTE_EMPTY, buttons=_END),))
    opens = _time(_info(state).get("opens"))
    replies = _leave(turn, texts.note_left(opens, ctx.now))
    return Step(state=state, replies=replies, effects=(HandOff("wait"),))


def on_event(turn: Turn, event: OfficerEvent) -> Step:
    """An officer answered, or closed the conversation."""
    state, ctx = turn.state, turn.ctx
    if event.kind == "answer":
        mode = state["mode"]
        first = mode != MODE
        if first and not event.reopen:
            # The hand-over ended meanwhile: the words still reach the citizen.
            return Step(state=state, replies=(Reply(texts.officer_says(event.text, False)),))
        if first:
            back = _info(state).get("back", engine.QA) if mode == NOTE else mode
            state[KEY] = {"back": back, "since": ctx.now.isoformat(), "acked": True}
            state["mode"] = MODE
        info = _info(state)
        info["last"] = ctx.now.isoformat()
        info["acked"] = True
        return Step(
            state=state, replies=(Reply(texts.officer_says(event.text, first), buttons=_END),)
        )
    if event.kind == "close" and state["mode"] in MODES:
        notice = texts.BACK_IDLE if event.by == "idle" else texts.BACK_BY_OFFICER
        return Step(state=state, replies=_leave(turn, notice))
    return Step(state=state)


FLOW = Flow(
    name="officer",
    verbs={engine.OFFICER: _on_officer, END: lambda turn, _: engine.main_menu(turn)},
    modes={MODE: _live, NOTE: _note},
    intercepts={engine.ANY_MODE: _intercept},
    captive=MODES,
    officer_events=on_event,
)

__all__ = ["END", "FLOW", "KEY", "MODE", "NOTE", "asks_for_officer", "on_event", "start"]
