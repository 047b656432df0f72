"""A dossier code typed or pasted anywhere in the chat answers with that dossier's status.

The code is read leniently (lower case, spaces, dashes, words around it: the citizen copies it
from a paper slip). ``bot/`` reads the dossier (:class:`~dialogs.model.LookupDossier`): the
conversation that filed it sees the status at once; anyone else must first give the phone
number the filer wrote in the dossier, with :data:`TRIES` tries per code per conversation
(``bot/`` also stops a code after repeated wrong numbers from any conversation). Whoever is
asked for the number is in the ``lookup`` mode; the mode they came from (a half-filled form)
is kept and comes back when the lookup ends.

```mermaid
stateDiagram-v2
    [*] --> lookup: code typed -> LookupDossier; not the filer's chat (lookupphone:CODE)
    lookup --> lookup: phone typed -> LookupDossier(code, phone); wrong (lookupwrong:CODE)
    lookup --> [*]: right number (lookupdone:CODE), tries used up, «Thôi», menu
```
"""

from __future__ import annotations

from typing import Any

from dialogs import validators
from dialogs.flow import Flow, Turn
from dialogs.model import Button, DossierStatus, LookupDossier, Reply, Step
from dialogs.texts import common as ctexts
from dialogs.texts import tracking as texts
from knowledge.dossier_code import parse_code

MODE = "lookup"
ASK_PHONE = "lookupphone"  # bot/'s follow-ups, never shown as buttons
WRONG_PHONE = "lookupwrong"
DONE = "lookupdone"
STOP = "lookupstop"
TRIES = 3
MAX_CODES = 20  # codes whose tries a conversation remembers
# Text typed in these modes is not a question: a supplement's notes may name the dossier.
_NOT_INTERCEPTED = frozenset({MODE, "supplement"})
_MENU = ((Button(ctexts.BTN_MENU, "menu"),),)


def code_in(text: str) -> str | None:
    """The dossier code in ``text``, written the office's way; None if there is none."""
    found = parse_code(text) if len(text) <= 400 else None
    return found.text if found is not None else None


def _intercept(turn: Turn) -> Step | None:
    """Any mode: a message holding a dossier code looks that dossier up."""
    if turn.state["mode"] in _NOT_INTERCEPTED or turn.inbound.attachments:
        return None
    code = code_in(turn.inbound.text)
    if code is None:
        return None
    return Step(state=turn.state, effects=(LookupDossier(code),))


def _tries_used(state: dict[str, Any]) -> dict[str, int]:
    used = state.get("lookup_tries")
    if not isinstance(used, dict):
        used = {}
        state["lookup_tries"] = used
    return used


def _left(state: dict[str, Any], code: str) -> int:
    used = _tries_used(state).get(code, 0)
    return max(0, TRIES - (used if isinstance(used, int) else TRIES))


def _leave(state: dict[str, Any]) -> None:
    active = state.pop("lookup", None)
    back = active.get("back") if isinstance(active, dict) else None
    state["mode"] = back if isinstance(back, str) and back != MODE else "qa"


def _on_ask_phone(turn: Turn, code: str) -> Step | None:
    if code_in(code) != code:
        return None
    state = turn.state
    if _left(state, code) == 0:
        return Step(
            state=state,
            replies=(Reply(texts.lookup_stopped(turn.ctx.commune.hotline), buttons=_MENU),),
        )
    back = state["mode"] if state["mode"] != MODE else "qa"
    if isinstance(state.get("lookup"), dict):
        back = str(state["lookup"].get("back", back))
    state["mode"] = MODE
    state["lookup"] = {"code": code, "back": back}
    stop = ((Button(texts.BTN_STOP_LOOKUP, STOP),),)
    return Step(state=state, replies=(Reply(texts.ask_phone(code), buttons=stop),))


def _on_wrong_phone(turn: Turn, code: str) -> Step | None:
    if code_in(code) != code:
        return None
    state = turn.state
    used = _tries_used(state)
    used[code] = min(TRIES, int(used.get(code, 0)) + 1)
    while len(used) > MAX_CODES:
        used.pop(next(iter(used)))
    left = _left(state, code)
    if left > 0 and state["mode"] == MODE:
        stop = ((Button(texts.BTN_STOP_LOOKUP, STOP),),)
        return Step(state=state, replies=(Reply(texts.phone_mismatch(left), buttons=stop),))
    if state["mode"] == MODE:
        _leave(state)
    return Step(
        state=state, replies=(Reply(texts.lookup_stopped(turn.ctx.commune.hotline), buttons=_MENU),)
    )


def _on_done(turn: Turn, code: str) -> Step | None:
    active = turn.state.get("lookup")
    if turn.state["mode"] == MODE and isinstance(active, dict) and active.get("code") == code:
        _leave(turn.state)  # silent: the effect that sent this has shown the status
        return Step(state=turn.state)
    return None  # forged or stale: the engine answers it as a button no longer valid


def _on_stop(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    if turn.state["mode"] == MODE:
        _leave(turn.state)
    return Step(state=turn.state, replies=(Reply(texts.LOOKUP_CANCELLED, buttons=_MENU),))


def _phone_typed(turn: Turn) -> Step:
    """In the lookup mode: the filer's phone number (or another code to look up)."""
    state = turn.state
    active = state.get("lookup")
    if not isinstance(active, dict) or code_in(str(active.get("code", ""))) is None:
        _leave(state)
        return Step(state=state, replies=(Reply(ctexts.MENU_PROMPT, buttons=_MENU),))
    text = turn.inbound.text
    other = code_in(text)
    if other is not None and other != active["code"]:
        return Step(state=state, effects=(LookupDossier(other),))
    phone = validators.parse_phone(text)
    if isinstance(phone, validators.Invalid):
        stop = ((Button(texts.BTN_STOP_LOOKUP, STOP),),)
        return Step(state=state, replies=(Reply(texts.PHONE_UNCLEAR, buttons=stop),))
    return Step(state=state, effects=(LookupDossier(str(active["code"]), str(phone.value)),))


def _stale(turn: Turn) -> Step:
    stop = ((Button(texts.BTN_STOP_LOOKUP, STOP),),)
    return Step(state=turn.state, replies=(Reply(texts.PHONE_UNCLEAR, buttons=stop),))


def status_screen(view: DossierStatus) -> Reply:
    """What ``bot/`` shows once the dossier may be seen."""
    return Reply(texts.dossier_status(view), buttons=_MENU)


FLOW = Flow(
    name="lookup",
    verbs={ASK_PHONE: _on_ask_phone, WRONG_PHONE: _on_wrong_phone, DONE: _on_done, STOP: _on_stop},
    modes={MODE: _phone_typed},
    on_stale={MODE: _stale},
    intercepts={"*": _intercept},
)

__all__ = ["ASK_PHONE", "DONE", "FLOW", "MODE", "TRIES", "WRONG_PHONE", "code_in", "status_screen"]
