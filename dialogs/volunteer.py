"""Youth-union volunteers in the chat: asking to volunteer, filing for a villager with their
consent, the dossiers filed, and handing one over to the villager's own chat.

Whether a chat is an approved volunteer is the database's to say: every step that needs it
asks ``bot/`` (:class:`CheckVolunteer`, :class:`RecordConsent`, the filing itself), which
answers with a follow-up payload (``tnvst:<status>[:<next>]``, ``tnvok``, ``tnvfiled:<code>``).
Payloads are untrusted, so a forged follow-up gets no further than a screen: the consent and the
filing are checked again by ``bot/``.

```mermaid
stateDiagram-v2
    [*] --> ask: /tinhnguyen -> CheckVolunteer; none or rejected (tnvst:none)
    [*] --> revoked: disabled (tnvst:disabled): told so, «Gửi lại yêu cầu»
    revoked --> ask: «Gửi lại yêu cầu» (tnvlai)
    ask --> ask: name, phone, branch
    ask --> [*]: ApplyVolunteer (pending; an officer decides in the console)
    [*] --> menu: approved (tnvst:approved)
    menu --> villager: «Khai giúp bà con» -> CheckVolunteer (tnvst:approved:khai)
    villager --> villager: name, ID number (12 digits), phone
    villager --> consent: the villager types «đồng ý», or a photo of the signed consent
    consent --> procedure: RecordConsent, audited (tnvok)
    procedure --> filing: the form, its villager answers filled in (dialogs.filing)
    filing --> [*]: SubmitDossier with on_behalf_of (tnvfiled:CODE)
    menu --> list: «Hồ sơ tôi đã khai giúp» -> ListFiledForOthers
    list --> [*]: «Trao hồ sơ» -> IssueHandover: a one-time code for the villager
```

The villager types ``NHAN <code>`` in their own Telegram or Zalo chat (any mode:
:class:`RedeemHandover`); ``bot/`` counts wrong codes per chat in the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dialogs import behalf, engine, qa
from dialogs import filing as filing_flow
from dialogs import filing_draft as fd
from dialogs import validators as v
from dialogs.cards import shorten
from dialogs.filing_screens import BUTTON_LENGTH, FormTurn
from dialogs.flow import Flow, Turn
from dialogs.model import CONSENT_SLOT, Button, CheckAttachments, Effect, Reply, Step
from dialogs.texts import common as ctexts
from dialogs.texts import filing as ftexts
from dialogs.texts import volunteer as texts
from knowledge.dossier_code import parse_code

MODE = "volunteer"
KEY = "volunteer"  # the questions being asked: {"stage": ..., answers so far}

TNV = "tnv"  # /tinhnguyen
AGAIN = "tnvlai"  # a revoked volunteer asks again
STATUS = "tnvst"  # bot/'s answer to CheckVolunteer: tnvst:<status>[:khai]
FILE_FOR = "tnvkhai"
LIST = "tnvds"
HAND_OVER = "tnvtrao"
PHOTO = "tnvanh"
STOP = "tnvstop"
CONSENTED = "tnvok"
PICK = "tnvfile"
FILED = "tnvfiled"

BRANCH_MAX_LENGTH = 120
HANDOVER_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B: read aloud
HANDOVER_LENGTH = 6
_HANDOVER = re.compile(
    rf"^{texts.HANDOVER_WORD.lower()}\s+([{HANDOVER_ALPHABET.lower()}]{{{HANDOVER_LENGTH}}})$"
)
VOLUNTEER_RELATION = next(r for r in ftexts.RELATIONS if "Tình nguyện viên" in r)
_PREFILLED_KINDS = {"name": "name", "id_number": "id_number", "phone": "phone"}


# --- effects ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckVolunteer(Effect):
    """Ask the database for this chat's volunteer status; answered by ``tnvst:<status>``
    (``none``, ``pending``, ``approved``, ``rejected``, ``disabled``) then ``:<then>``."""

    then: str = ""


@dataclass(frozen=True, slots=True)
class ApplyVolunteer(Effect):
    """Record the chat's request to volunteer, pending an officer's decision."""

    name: str
    phone: str
    branch: str
    commune_code: str


@dataclass(frozen=True, slots=True)
class RecordConsent(Effect):
    """The villager consented (typed "đồng ý" at ``at``, or the photo ``photo_sha256``):
    audit it, if this chat is an approved volunteer; answered by ``tnvok``."""

    villager: Mapping[str, Any]  # name, id_number, phone
    kind: str  # "typed" or "photo"
    at: str  # ISO time of the consent
    text: str = ""
    photo_sha256: str = ""


@dataclass(frozen=True, slots=True)
class DropConsentPhotos(Effect):
    """Forget consent photos this chat sent that no dossier took (a stopped or refused
    filing): they must never join the next dossier filed from this chat."""


@dataclass(frozen=True, slots=True)
class ListFiledForOthers(Effect):
    """The dossiers this volunteer filed ("Hồ sơ tôi đã khai giúp")."""


@dataclass(frozen=True, slots=True)
class IssueHandover(Effect):
    """A one-time code handing dossier ``code`` over to the villager's own chat."""

    code: str


@dataclass(frozen=True, slots=True)
class RedeemHandover(Effect):
    """A handover code typed in a chat: take the dossier's notices here."""

    code: str


# --- small helpers ---------------------------------------------------------------------------

_STOP_ROW = (Button(texts.BTN_STOP, STOP),)


def _say(turn: Turn, text: str, rows: tuple[tuple[Button, ...], ...] = ()) -> Step:
    return Step(state=turn.state, replies=(Reply(text, buttons=rows),))


def _menu_rows() -> tuple[tuple[Button, ...], ...]:
    return (
        (Button(texts.BTN_FILE_FOR, FILE_FOR),),
        (Button(texts.BTN_MY_FILINGS, LIST),),
        (Button(ctexts.BTN_MENU, engine.MENU),),
    )


def _asking(turn: Turn, stage: str, **answers: str) -> dict[str, Any]:
    current = turn.state.get(KEY)
    record: dict[str, Any] = dict(current) if isinstance(current, dict) else {}
    record.update(answers)
    record["stage"] = stage
    turn.state[KEY] = record
    turn.state["mode"] = MODE
    return record


def _leave(turn: Turn) -> None:
    turn.state.pop(KEY, None)
    turn.state["mode"] = engine.QA


def handover_code_in(text: str) -> str | None:
    """The handover code in ``NHAN K7M3PX`` ("nhận k7m3qx"), upper case; None if none."""
    found = _HANDOVER.match(qa.fold(text)) if len(text) <= 40 else None
    return found.group(1).upper() if found else None


# --- verbs -----------------------------------------------------------------------------------


def _on_tnv(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    return Step(state=turn.state, effects=(CheckVolunteer(),))


def _on_status(turn: Turn, argument: str) -> Step | None:
    status, _, then = argument.partition(":")
    if status in ("none", "rejected"):
        notes = f"{texts.REJECTED_BEFORE}\n" if status == "rejected" else ""
        _asking(turn, "name")
        return _say(turn, notes + texts.ASK_NAME, (_STOP_ROW,))
    if status == "pending":
        return _say(turn, texts.STILL_PENDING, ((Button(ctexts.BTN_MENU, engine.MENU),),))
    if status == "disabled":
        rows = ((Button(texts.BTN_AGAIN, AGAIN),), (Button(ctexts.BTN_MENU, engine.MENU),))
        return _say(turn, texts.DISABLED, rows)
    if status != "approved":
        return None
    if then == "khai":
        turn.state.pop(behalf.KEY, None)
        _asking(turn, "v_name")
        asked = _say(turn, texts.ASK_VILLAGER_NAME, (_STOP_ROW,))
        return Step(state=asked.state, replies=asked.replies, effects=(DropConsentPhotos(),))
    return _say(turn, texts.APPROVED_MENU, _menu_rows())


def _on_again(turn: Turn, argument: str) -> Step | None:
    """Ask again after a revocation; whether that may be is the database's to say when the
    request is recorded (an approved volunteer stays approved)."""
    if argument:
        return None
    _asking(turn, "name")
    return _say(turn, texts.ASK_NAME, (_STOP_ROW,))


def _on_file_for(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    return Step(state=turn.state, effects=(CheckVolunteer(then="khai"),))


def _on_list(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    return Step(state=turn.state, effects=(ListFiledForOthers(),))


def _on_hand_over(turn: Turn, code: str) -> Step | None:
    found = parse_code(code)
    if found is None or found.text != code:
        return None
    return Step(state=turn.state, effects=(IssueHandover(code),))


def _on_photo(turn: Turn, argument: str) -> Step | None:
    record = turn.state.get(KEY)
    if argument or not isinstance(record, dict) or record.get("stage") not in ("consent", "photo"):
        return None
    _asking(turn, "photo")
    return _say(turn, texts.ASK_CONSENT_PHOTO, (_STOP_ROW,))


def _on_stop(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    _leave(turn)
    turn.state.pop(behalf.KEY, None)
    step = engine.main_menu(turn, notice=texts.STOPPED)
    return Step(state=step.state, replies=step.replies, effects=(DropConsentPhotos(),))


def _on_consented(turn: Turn, argument: str) -> Step | None:
    """bot/ audited the consent: confirm it and ask for the procedure."""
    record = turn.state.get(behalf.KEY)
    if argument or not isinstance(record, dict) or not isinstance(record.get("consent"), dict):
        return None
    record["consent"]["confirmed"] = True
    _asking(turn, "procedure")
    return _say(turn, texts.ASK_PROCEDURE, (_STOP_ROW,))


def _on_pick(turn: Turn, code: str) -> Step | None:
    record = turn.state.get(behalf.KEY)
    procedure = turn.ctx.catalogue.get(code) if code else None
    if procedure is None or procedure.form is None or not isinstance(record, dict):
        return None
    if not record.get("consent", {}).get("confirmed"):
        return None
    return _start_filing(turn, code, record)


def _on_filed(turn: Turn, code: str) -> Step | None:
    record = turn.state.pop(behalf.KEY, None)
    name = str(record.get("name", "")) if isinstance(record, dict) else ""
    return _say(turn, texts.filed_for(name, code), _menu_rows())


# --- typed answers ---------------------------------------------------------------------------


def _typed(turn: Turn) -> Step:
    record = turn.state.get(KEY)
    stage = record.get("stage") if isinstance(record, dict) else None
    inbound = turn.inbound
    text = inbound.text
    if stage is None:
        _leave(turn)
        return engine.main_menu(turn)
    if stage in ("consent", "photo") and inbound.attachments:
        return _consent_photo(turn)
    if inbound.attachments:
        return _say(turn, ctexts.TEXT_ONLY, (_STOP_ROW,))
    phone_text = text
    if inbound.contact is not None and inbound.contact.user_id == inbound.key.user_id:
        phone_text = inbound.contact.phone
    if stage == "name":
        return _answer(turn, v.parse_name(text), "phone", texts.ASK_PHONE, "name")
    if stage == "phone":
        return _answer(turn, v.parse_phone(phone_text), "branch", texts.ASK_BRANCH, "phone")
    if stage == "branch":
        branch = v.parse_text(text, max_length=BRANCH_MAX_LENGTH)
        if isinstance(branch, v.Invalid):
            return _say(turn, texts.BRANCH_UNCLEAR, (_STOP_ROW,))
        assert isinstance(record, dict)
        effect = ApplyVolunteer(
            str(record["name"]), str(record["phone"]), str(branch.value), turn.ctx.commune.code
        )
        _leave(turn)
        return Step(state=turn.state, effects=(effect,))
    if stage == "v_name":
        return _answer(turn, v.parse_name(text), "v_id", texts.ASK_VILLAGER_ID, "name")
    if stage == "v_id":
        return _answer(
            turn, v.parse_id_number(text), "v_phone", texts.ASK_VILLAGER_PHONE, "id_number"
        )
    if stage == "v_phone":
        return _answer(turn, v.parse_phone(text), "consent", texts.ASK_CONSENT, "phone")
    if stage in ("consent", "photo"):
        return _consent_typed(turn, text)
    if stage == "procedure":
        return _procedure_typed(turn, text)
    _leave(turn)
    return engine.main_menu(turn)


def _answer(turn: Turn, result: v.Result, next_stage: str, prompt: str, name: str) -> Step:
    if isinstance(result, v.Invalid):
        return _say(turn, result.message, (_STOP_ROW,))
    _asking(turn, next_stage, **{name: str(result.value)})
    rows: tuple[tuple[Button, ...], ...] = (_STOP_ROW,)
    if next_stage == "consent":
        rows = ((Button(texts.BTN_CONSENT_PHOTO, PHOTO),), _STOP_ROW)
    return _say(turn, prompt, rows)


def _villager(turn: Turn) -> dict[str, str]:
    record = turn.state.get(KEY)
    assert isinstance(record, dict)
    return {k: str(record.get(k, "")) for k in ("name", "id_number", "phone")}


def _consent_typed(turn: Turn, text: str) -> Step:
    answer = v.parse_yes_no(text)
    if isinstance(answer, v.Invalid):
        return _say(
            turn, texts.CONSENT_UNCLEAR, ((Button(texts.BTN_CONSENT_PHOTO, PHOTO),), _STOP_ROW)
        )
    if not answer.value:
        _leave(turn)
        turn.state.pop(behalf.KEY, None)
        step = engine.main_menu(turn, notice=texts.CONSENT_REFUSED)
        return Step(state=step.state, replies=step.replies, effects=(DropConsentPhotos(),))
    return _consented(turn, "typed", text=v.clean_spaces(text)[:60])


def _consent_photo(turn: Turn) -> Step:
    attachments = turn.inbound.attachments
    checked = [a for a in attachments if a.checked]
    if not checked:
        return Step(
            state=turn.state,
            effects=(CheckAttachments(slot=CONSENT_SLOT, attachments=attachments),),
        )
    good = next((a for a in checked if a.stored_key and a.sha256), None)
    if good is None:
        return _say(
            turn, texts.CONSENT_PHOTO_BAD, ((Button(texts.BTN_CONSENT_PHOTO, PHOTO),), _STOP_ROW)
        )
    return _consented(turn, "photo", photo_sha256=good.sha256)


def _consented(turn: Turn, kind: str, *, text: str = "", photo_sha256: str = "") -> Step:
    villager = _villager(turn)
    at = turn.ctx.now.isoformat()
    turn.state[behalf.KEY] = {
        **villager,
        "consent": {"kind": kind, "at": at, "text": text, "photo_sha256": photo_sha256},
    }
    _asking(turn, "recording")
    effect = RecordConsent(villager, kind, at, text=text, photo_sha256=photo_sha256)
    return Step(state=turn.state, effects=(effect,))


def _procedure_typed(turn: Turn, text: str) -> Step:
    record = turn.state.get(behalf.KEY)
    if not isinstance(record, dict) or not record.get("consent", {}).get("confirmed"):
        _leave(turn)
        return engine.main_menu(turn)
    hits = turn.ctx.search.search(qa.query_of(text), limit=qa.SEARCH_LIMIT) if text.strip() else []
    found = [p for p in qa.pick(hits, turn.ctx.catalogue) if p.form is not None]
    if len(found) == 1:
        return _start_filing(turn, found[0].code, record)
    if not found:
        return _say(turn, texts.NO_PROCEDURE, (_STOP_ROW,))
    rows = tuple((Button(shorten(p.name, BUTTON_LENGTH), f"{PICK}:{p.code}"),) for p in found)
    return _say(turn, texts.WHICH_PROCEDURE, (*rows, _STOP_ROW))


def _start_filing(turn: Turn, code: str, record: dict[str, Any]) -> Step:
    """Open the form for the villager, with what we already know of them filled in."""
    turn.state.pop(KEY, None)
    turn.state["mode"] = engine.QA
    turn.state.pop(fd.KEY, None)  # a draft of the volunteer's own is not this villager's
    step = filing_flow.on_file(turn, code)
    assert step is not None  # the code is a catalogue procedure with a form
    draft = fd.read_draft(step.state)
    procedure = turn.ctx.catalogue.get(code)
    if draft is None or procedure is None or procedure.form is None:
        return step
    record["draft"] = draft["id"]
    # The filer is the volunteer, for someone else: the form's own answer for a volunteer.
    draft["answers"][fd.FILER] = {
        "value": {"for_self": False, "relation": VOLUNTEER_RELATION},
        "display": ftexts.for_other(VOLUNTEER_RELATION),
    }
    fd.set_status(draft, fd.FILER, fd.ANSWERED)
    form = procedure.form
    # A form that asks no relation of its own is about the villager (FormTurn.own_self): their
    # own name and ID number are the subject's («Họ và tên người đăng ký tạm trú»).
    subject = fd.own_details(form, form.subject) if fd.relation_field(form) is None else {}
    filled: set[str] = set()
    for field in form.fields:
        source = _PREFILLED_KINDS.get(field.kind)
        theirs = field.who in ("requester", "") or subject.get(field.kind) is field
        if source is None or not theirs or not record.get(source):
            continue
        item = fd.field_item(field.name)
        if item in draft["answers"]:
            continue
        draft["answers"][item] = {"value": record[source], "display": record[source]}
        draft["answers"][item]["prefilled"] = True  # not a question the form will ask
        fd.set_status(draft, item, fd.ANSWERED)
        filled.add(field.kind)
    intro = ftexts.intro(procedure.name, len(form.photos))
    note = texts.prefilled(str(record["name"]), filled)  # only what was filled, or nothing
    return FormTurn(turn, procedure, draft).ask([intro, *([note] if note else [])])


# --- any chat: a handover code typed --------------------------------------------------------


def _intercept(turn: Turn) -> Step | None:
    if turn.inbound.attachments or turn.state.get("mode") == MODE:
        return None
    code = handover_code_in(turn.inbound.text)
    if code is None:
        return None
    return Step(state=turn.state, effects=(RedeemHandover(code),))


def _stale(turn: Turn) -> Step:
    record = turn.state.get(KEY)
    if not isinstance(record, dict):
        _leave(turn)
        return engine.main_menu(turn, notice=ctexts.STALE_CHOICE)
    return _say(turn, ctexts.STALE_CHOICE, (_STOP_ROW,))


FLOW = Flow(
    name="volunteer",
    verbs={
        TNV: _on_tnv,
        AGAIN: _on_again,
        STATUS: _on_status,
        FILE_FOR: _on_file_for,
        LIST: _on_list,
        HAND_OVER: _on_hand_over,
        PHOTO: _on_photo,
        STOP: _on_stop,
        CONSENTED: _on_consented,
        PICK: _on_pick,
        FILED: _on_filed,
    },
    modes={MODE: _typed},
    on_stale={MODE: _stale},
    intercepts={"*": _intercept},
    commands={"/tinhnguyen": TNV, "/khaigiup": LIST},
)

__all__ = [
    "CONSENT_SLOT",
    "FLOW",
    "HANDOVER_ALPHABET",
    "HANDOVER_LENGTH",
    "ApplyVolunteer",
    "CheckVolunteer",
    "DropConsentPhotos",
    "IssueHandover",
    "ListFiledForOthers",
    "RecordConsent",
    "RedeemHandover",
    "handover_code_in",
]
