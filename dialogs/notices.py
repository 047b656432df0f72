"""The office's notices in the citizen's chat, and the supplement the citizen sends back.

:func:`on_notice` is to an office event what ``advance`` is to a citizen's message: a pure step
from the stored state to the new state and the words to send. ``bot/`` runs it under the same
per-conversation lock and the same atomic save as a turn.

A supplement request is remembered in the state (``supplements``: code -> what is missing) and
offers a «Gửi bổ sung» button; pressing it opens the ``supplement`` mode: photos go through the
usual photo checks into the conversation's :data:`~dialogs.model.SUPPLEMENT_SLOT`, text is kept
as notes, «Xong» shows a short summary and «Gửi cho xã» asks ``bot/`` to hand them to the office
(:class:`~dialogs.model.SubmitSupplement`), which moves the dossier back to processing.

```mermaid
stateDiagram-v2
    [*] --> qa: notice "supplement_requested" (remembered, button shown)
    qa --> supplement: «Gửi bổ sung» (supp:CODE)
    supplement --> supplement: photo / text
    supplement --> review: «Xong» (suppdone)
    review --> supplement: «Gửi thêm»
    review --> qa: «Gửi cho xã» (suppsend) -> SubmitSupplement
    supplement --> qa: «Hủy bổ sung» / menu
```
"""

from __future__ import annotations

from typing import Any

from dialogs.context import Context
from dialogs.model import (
    SUPPLEMENT_SLOT,
    Button,
    CheckAttachments,
    Notice,
    Reply,
    Step,
    SubmitSupplement,
)
from dialogs.texts import common as ctexts
from dialogs.texts import filing as ftexts
from dialogs.texts import notices as texts

MODE = "supplement"
START = "supp"
DONE = "suppdone"
SEND = "suppsend"
SENT = "suppsent"  # bot/'s follow-up once the office took it
CANCEL = "suppcancel"
MENU = "menu"
MAX_NOTES = 10
NOTE_LENGTH = 500
MAX_PENDING = 10  # supplement requests remembered per conversation


def _pending(state: dict[str, Any]) -> dict[str, Any]:
    pending = state.get("supplements")
    if not isinstance(pending, dict):
        pending = {}
        state["supplements"] = pending
    return pending


def on_notice(state: dict[str, Any], notice: Notice, ctx: Context) -> Step:
    """Tell the citizen what the office did; remember what a supplement request needs.

    Pure, and the same notice twice gives the same words (``bot/`` may send one again after a
    crash)."""
    pending = _pending(state)
    buttons: tuple[tuple[Button, ...], ...] = ((Button(ctexts.BTN_MENU, MENU),),)
    if notice.status == "supplement_requested" and notice.kind == "transition":
        pending[notice.code] = {
            "missing": list(notice.missing),
            "deadline": None
            if notice.supplement_deadline is None
            else notice.supplement_deadline.isoformat(),
        }
        while len(pending) > MAX_PENDING:
            pending.pop(next(iter(pending)))
        buttons = (
            (Button(texts.BTN_SUPPLEMENT, f"{START}:{notice.code}"),),
            (Button(texts.BTN_LATER, MENU),),
        )
    else:
        pending.pop(notice.code, None)
    body = _body(notice, ctx)
    text = "\n".join(
        (
            texts.head(notice.code, notice.procedure_name),
            body,
            texts.genuine(notice.code, ctx.commune.hotline),
        )
    )
    return Step(state=state, replies=(Reply(text, buttons=buttons),))


def _body(notice: Notice, ctx: Context) -> str:
    if notice.kind == "extended":
        return texts.extended(notice.due_date, notice.note)
    match notice.status:
        case "accepted":
            return texts.accepted(notice.due_date)
        case "not_accepted":
            return texts.not_accepted(notice.reason or notice.note)
        case "in_progress":
            if notice.from_status == "supplement_requested":
                return texts.in_progress_after_supplement(notice.due_date)
            return texts.IN_PROGRESS
        case "supplement_requested":
            return texts.supplement(notice.missing, notice.supplement_deadline)
        case "payment_requested":
            return texts.payment(notice.amount, notice.pay_to, notice.pay_note)
        case "paid":
            return texts.PAID
        case "refused":
            return texts.refused(notice.reason or notice.note)
        case "result_ready":
            return texts.result_ready(notice.by_post, ctx.commune.address)
        case "returned":
            return texts.RETURNED
        case "posted":
            return texts.posted(notice.item_number)
        case "collected":
            return texts.COLLECTED
        case "in_transit":
            return texts.IN_TRANSIT
        case "delivered":
            return texts.DELIVERED
        case "delivery_failed":
            return texts.DELIVERY_FAILED
        case "returned_to_office":
            return texts.RETURNED_TO_OFFICE
        case "withdrawn":
            return texts.WITHDRAWN
    return texts.other(notice.status)


# --- the citizen's supplement ---------------------------------------------------------------


def _active(state: dict[str, Any]) -> dict[str, Any] | None:
    active = state.get("supplement")
    if state.get("mode") != MODE or not isinstance(active, dict):
        return None
    if active.get("code") not in _pending(state):
        return None
    return active


_WORKING_BUTTONS = (
    (Button(texts.BTN_DONE, DONE),),
    (Button(texts.BTN_CANCEL, CANCEL),),
)


def start(state: dict[str, Any], code: str) -> Step | None:
    """«Gửi bổ sung» pressed for ``code``; None when no such request is open (stale button)."""
    request = _pending(state).get(code)
    if not isinstance(request, dict):
        return Step(state=state, replies=(Reply(texts.SUPPLEMENT_NOT_OPEN),))
    state["mode"] = MODE
    state["supplement"] = {"code": code, "photos": [], "notes": [], "review": False}
    missing = [str(m) for m in request.get("missing", [])]
    return Step(
        state=state,
        replies=(Reply(texts.supplement_prompt(code, missing), buttons=_WORKING_BUTTONS),),
    )


def on_message(state: dict[str, Any], text: str, attachments: tuple[Any, ...]) -> Step | None:
    """A photo or text while a supplement is open; None when none is open (plain Q&A)."""
    active = _active(state)
    if active is None:
        return None
    if attachments:
        unchecked = tuple(a for a in attachments if not a.checked)
        if unchecked:
            return Step(state=state, effects=(CheckAttachments(SUPPLEMENT_SLOT, unchecked),))
        hints: list[str] = []
        for attachment in attachments:
            if attachment.stored_key and attachment.sha256 not in active["photos"]:
                active["photos"].append(attachment.sha256)
            elif attachment.problem:
                hints.append(
                    ftexts.PHOTO_PROBLEMS.get(attachment.problem, ftexts.PHOTO_PROBLEM_OTHER)
                )
        said = texts.supplement_got(len(active["photos"]), len(active["notes"]))
        return Step(
            state=state,
            replies=(Reply("\n".join([*hints, said]).strip(), buttons=_WORKING_BUTTONS),),
        )
    note = " ".join(text.split())[:NOTE_LENGTH]
    if note and len(active["notes"]) < MAX_NOTES:
        active["notes"].append(note)
    said = texts.supplement_got(len(active["photos"]), len(active["notes"]))
    return Step(
        state=state, replies=(Reply(said or texts.SUPPLEMENT_EMPTY, buttons=_WORKING_BUTTONS),)
    )


def review(state: dict[str, Any]) -> Step | None:
    active = _active(state)
    if active is None:
        return None
    if not active["photos"] and not active["notes"]:
        return Step(state=state, replies=(Reply(texts.SUPPLEMENT_EMPTY, buttons=_WORKING_BUTTONS),))
    active["review"] = True
    text = texts.supplement_summary(active["code"], len(active["photos"]), active["notes"])
    buttons = (
        (Button(texts.BTN_SEND, SEND),),
        (Button(texts.BTN_MORE, f"{START}:{active['code']}:more"),),
        (Button(texts.BTN_CANCEL, CANCEL),),
    )
    return Step(state=state, replies=(Reply(text, buttons=buttons),))


def more(state: dict[str, Any]) -> Step | None:
    active = _active(state)
    if active is None:
        return None
    active["review"] = False
    said = texts.supplement_got(len(active["photos"]), len(active["notes"]))
    return Step(state=state, replies=(Reply(said, buttons=_WORKING_BUTTONS),))


def send(state: dict[str, Any]) -> Step | None:
    """«Gửi cho xã»: hand it to ``bot/``. The supplement stays open until ``bot/`` answers
    with :data:`SENT` (the office took it), so a failed send can be pressed again."""
    active = _active(state)
    if active is None or not active.get("review"):
        return None
    effect = SubmitSupplement(
        code=str(active["code"]),
        files=tuple(str(p) for p in active["photos"]),
        text="\n".join(str(n) for n in active["notes"]),
    )
    return Step(state=state, replies=(Reply(texts.SUPPLEMENT_SENDING),), effects=(effect,))


def sent(state: dict[str, Any], code: str) -> Step:
    """The office took the supplement: close it and forget the request."""
    if isinstance(state.get("supplement"), dict) and state["supplement"].get("code") == code:
        state.pop("supplement", None)
        state["mode"] = "qa"
    _pending(state).pop(code, None)
    return Step(state=state)


def cancel(state: dict[str, Any]) -> Step:
    state["mode"] = "qa"
    state.pop("supplement", None)
    return Step(
        state=state,
        replies=(Reply(texts.SUPPLEMENT_CANCELLED, buttons=((Button(ctexts.BTN_MENU, MENU),),)),),
    )


__all__ = [
    "CANCEL",
    "DONE",
    "MODE",
    "SEND",
    "SENT",
    "START",
    "cancel",
    "more",
    "on_message",
    "on_notice",
    "review",
    "send",
    "sent",
    "start",
]
