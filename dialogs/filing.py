"""The filing dialog: pick a procedure, answer one question at a time, photograph the papers,
review everything, submit. See ``dialogs/filing.md`` for the picture.

Forms are data (``Procedure.form``): the item asked is the first one not yet answered, unless
the user went back or chose to edit one (Rasa's ``required_slots``); each answer goes through
the validator named after its field's kind (``dialogs.filing_answers``). A bad answer is never
stored, a question is answered without losing the form, and everything typed or sent stays in
the draft (``dialogs.filing_draft``) until the dossier is submitted, cancelled or expires.

The form is one flow, :data:`FLOW`, that ``bot/dialog.py`` puts in the dialog with the others:
the ``form`` payload verb, the ``file`` verb (the card's "Nộp hồ sơ" button), the ``filing``
mode and its on-stale answer, and an intercept in the question mode for "nộp hồ sơ …" and for
papers sent to an open draft from the menu.

Payloads are ``form:<8 characters of the draft id>:<action>[:<argument>…]``, so a button left
over from another draft never acts on this one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from dialogs import behalf, engine, qa
from dialogs import filing_answers as fa
from dialogs import filing_draft as fd
from dialogs import validators as v
from dialogs.addresses import successor
from dialogs.cards import shorten
from dialogs.context import Context
from dialogs.filing_draft import DraftInfo, draft_summary
from dialogs.filing_screens import (
    BUTTON_LENGTH,
    COMMUNE_CHOICES,
    FORM,
    KIND_EXAMPLES,
    KIND_OPTIONS,
    MODE,
    FormTurn,
)
from dialogs.flow import Flow, Turn
from dialogs.model import (
    Attachment,
    Button,
    CheckAttachments,
    Reply,
    Step,
    SubmitDossier,
    copy_json,
)
from dialogs.texts import common as ctexts
from dialogs.texts import filing as texts
from knowledge.model import FormField, Procedure

__all__ = [
    "FLOW",
    "FORM",
    "MODE",
    "DraftInfo",
    "draft_summary",
    "mark_reminded",
    "on_file",
    "on_form",
    "on_qa_text",
    "on_stale",
    "on_text",
    "reminder_replies",
]

_FILING_INTENT = (("nop", "ho", "so"), ("nop", "hs"), ("khai", "ho", "so"), ("lam", "ho", "so"))


# --- Opening a draft ---------------------------------------------------------------------------


def _open(turn: Turn) -> tuple[dict[str, Any] | None, str, str]:
    """The open draft, or None; with the code of a draft that just expired and a notice.

    An expired or unreadable draft is dropped here, so the caller can start afresh.
    """
    state = turn.state
    if fd.KEY not in state:
        return None, "", ""
    draft = fd.read_draft(state)
    if draft is None:
        del state[fd.KEY]
        return None, "", texts.DRAFT_UNREADABLE
    updated = fd.parse_time(draft["updated_at"])
    if updated is not None and fd.elapsed(turn.ctx.now, updated) >= turn.ctx.draft_ttl:
        del state[fd.KEY]
        if draft["submitted"]:
            return None, "", ""
        return None, draft["code"], texts.expired(draft["name"], turn.ctx.draft_ttl.days)
    return draft, "", ""


def _paused(turn: Turn, draft: dict[str, Any]) -> bool:
    updated = fd.parse_time(draft["updated_at"])
    return updated is not None and fd.elapsed(turn.ctx.now, updated) >= turn.ctx.resume_after


def _form_procedure(turn: Turn, code: str) -> Procedure | None:
    procedure = turn.ctx.catalogue.get(code)
    return procedure if procedure is not None and procedure.form is not None else None


def _begin(turn: Turn, procedure: Procedure, notes: Sequence[str] = ()) -> Step:
    """A fresh draft: say what is coming, then ask who is filing."""
    assert procedure.form is not None
    key = fd.draft_id(turn.inbound.key.as_str(), turn.inbound.message_id, procedure.code)
    draft = fd.new_draft(procedure, key, turn.ctx.now)
    filing = FormTurn(turn, procedure, draft)
    intro = texts.intro(procedure.name, len(procedure.form.photos))
    return filing.ask([*notes, intro])


def _menu(turn: Turn, notice: str) -> Step:
    turn.state.pop(fd.KEY, None)
    return engine.main_menu(turn, notice=notice)


def _restart_or_menu(turn: Turn, code: str, notice: str) -> Step:
    procedure = _form_procedure(turn, code) if code else None
    if procedure is None:
        return _menu(turn, notice or texts.NO_LONGER_FILED)
    return _begin(turn, procedure, [notice] if notice else [])


# --- Entry points ----------------------------------------------------------------------------


def on_file(turn: Turn, code: str) -> Step | None:
    """The card's "Nộp hồ sơ" button (``file:<code>``): start, resume or switch the draft."""
    procedure = turn.ctx.catalogue.get(code) if code else None
    if procedure is None:
        return None
    if procedure.form is None:
        return engine.file_elsewhere(turn, procedure)
    return _start(turn, procedure)


def _start(turn: Turn, procedure: Procedure) -> Step:
    draft, _, notice = _open(turn)
    if draft is None or draft["submitted"]:
        return _begin(turn, procedure, [notice] if notice else [])
    current = _form_procedure(turn, draft["code"])
    if current is None:
        return _begin(turn, procedure)
    filing = FormTurn(turn, current, draft)
    draft["prompt"] = "resume" if draft["code"] == procedure.code else f"switch:{procedure.code}"
    return filing.show_prompt()


def on_qa_text(turn: Turn) -> Step | None:
    """In the question mode: "nộp hồ sơ khai sinh", and photos for an open draft; None leaves
    anything else to the question mode's own handler."""
    inbound = turn.inbound
    if inbound.attachments:
        # Papers sent after a visit to the menu still belong to the open draft.
        draft, _, _ = _open(turn)
        if draft is not None and not draft["submitted"]:
            return on_text(turn)
    words = qa.fold(inbound.text).split()
    for intent in _FILING_INTENT:
        if tuple(words[: len(intent)]) == intent:
            return _typed_filing(turn, " ".join(inbound.text.split()[len(intent) :]))
    return None


def _typed_filing(turn: Turn, query: str) -> Step | None:
    """A typed "nộp hồ sơ <query>"; None when nothing matches: the text is a question then."""
    if not query.strip():
        turn.state["mode"] = engine.QA
        return Step(state=turn.state, replies=(Reply(texts.WHAT_TO_FILE),))
    found = qa.pick(
        turn.ctx.search.search(qa.query_of(query), limit=qa.SEARCH_LIMIT), turn.ctx.catalogue
    )
    if len(found) == 1:
        step = on_file(turn, found[0].code)
        assert step is not None  # the code came from the catalogue
        return step
    if not found:
        return None
    rows = [(Button(shorten(p.name, BUTTON_LENGTH), f"{engine.FILE}:{p.code}"),) for p in found]
    rows.append((Button(ctexts.BTN_MENU, engine.MENU),))
    return Step(state=turn.state, replies=(Reply(engine.which_one(found), buttons=tuple(rows)),))


def on_text(turn: Turn) -> Step:
    """Anything typed or sent (text, photos, a shared contact) while a draft is open."""
    draft, expired_code, notice = _open(turn)
    if draft is None:
        if expired_code or notice:
            return _restart_or_menu(turn, expired_code, notice)
        turn.state["mode"] = engine.QA
        return engine.answer_question(turn)
    procedure = _form_procedure(turn, draft["code"])
    if procedure is None:
        return _menu(turn, texts.NO_LONGER_FILED)
    if draft["submitted"]:
        turn.state["mode"] = engine.QA
        return engine.answer_question(turn)
    filing = FormTurn(turn, procedure, draft)
    inbound = turn.inbound
    checked = tuple(a for a in inbound.attachments if a.checked)
    if checked:
        return _photos_checked(filing, checked)
    if not draft["prompt"] and _paused(turn, draft):
        draft["prompt"] = "resume"
    if draft["prompt"]:
        return _typed_at_prompt(filing, inbound.text)
    if inbound.attachments:
        return _photos_sent(filing, inbound.attachments)
    if inbound.contact is not None:
        return _contact(filing)
    return _typed(filing, inbound.text)


def on_form(turn: Turn, argument: str) -> Step | None:
    """A form button: ``<draft id>:<action>[:<argument>…]``. None for a payload that does not
    belong to any draft (the engine says "no longer valid")."""
    short_id, _, rest = argument.partition(":")
    action, _, args = rest.partition(":")
    draft, expired_code, notice = _open(turn)
    if draft is None:
        if expired_code:
            return _restart_or_menu(turn, expired_code, notice)
        return _menu(turn, notice) if notice else None
    procedure = _form_procedure(turn, draft["code"])
    if procedure is None:
        return _menu(turn, texts.NO_LONGER_FILED)
    filing = FormTurn(turn, procedure, draft)
    if short_id != draft["id"][: fd.SHORT_ID] or action not in _ACTIONS:
        return filing.ask([texts.STALE_BUTTON])
    if draft["submitted"]:
        if action == "send":
            return _send(filing, "")
        turn.state["mode"] = engine.QA
        return Step(state=turn.state, replies=(Reply(texts.ALREADY_SENT),))
    if action not in _ANY_TIME and not draft["prompt"] and _paused(turn, draft):
        draft["prompt"] = "resume"
        return filing.show_prompt()
    if draft["prompt"] and action not in _PROMPT_ACTIONS:
        return filing.show_prompt([texts.STALE_BUTTON])
    return _ACTIONS[action](filing, args)


def on_stale(turn: Turn) -> Step:
    """A payload nobody understands, mid-form: say so and ask the same question again."""
    draft, expired_code, notice = _open(turn)
    procedure = _form_procedure(turn, draft["code"]) if draft is not None else None
    if draft is None or procedure is None or draft["submitted"]:
        if expired_code:
            return _restart_or_menu(turn, expired_code, notice)
        return _menu(turn, notice or ctexts.STALE_CHOICE)
    return FormTurn(turn, procedure, draft).ask([texts.STALE_BUTTON])


# --- Typed input ---------------------------------------------------------------------------------


def _typed_at_prompt(filing: FormTurn, text: str) -> Step:
    if filing.draft["prompt"] == "cancel":
        answer = v.parse_yes_no(text)
        if isinstance(answer, v.Valid):
            return _cancel_yes(filing, "") if answer.value else _cancel_no(filing, "")
    return filing.show_prompt()


def _typed(filing: FormTurn, text: str) -> Step:
    nav = fa.nav_of(text)
    if nav is not None:
        return _NAV_ACTIONS[nav](filing, "")
    item = filing.current()
    if item is None:
        if text.strip() and (fa.looks_like_question(text) or filing.strong_hit(text)):
            return filing.answer_then_ask(text)
        return filing.ask()
    if fa.looks_like_question(text):
        return filing.answer_then_ask(text)
    if item == fd.FILER:
        return _typed_filer(filing, text)
    sub = filing.draft["sub"]
    if sub is not None and sub["item"] == item and sub["stage"] == "tones":
        answered = _typed_at_tones(filing, text)
        if answered is not None:
            return answered
    slot = filing.slot_for(item)
    if slot is not None:
        if text.strip() and filing.strong_hit(text):
            return filing.answer_then_ask(text)
        return filing.ask([texts.PHOTO_WANTED])
    field = filing.field_for(item)
    assert field is not None
    if field.kind == "address":
        return _typed_address(filing, item, field, text)
    run = filing.line_run(item)
    if len(run) > 1:
        return _typed_line(filing, run, text)
    result = fa.check_answer(
        field,
        text,
        filing.fields,
        fd.field_answers(filing.draft),
        fa.today_of(filing.ctx.now),
    )
    if isinstance(result, v.Valid):
        return filing.store_field(item, field, result)
    if text.strip() and filing.strong_hit(text):
        return filing.answer_then_ask(text)
    return filing.ask([result.message])


def _typed_line(filing: FormTurn, run: tuple[FormField, ...], text: str) -> Step:
    """Several answers in one line ("Trần Thị Hoa, 20/05/1998, 031198001234"): each part is
    checked by its own field's validator and kept if good; what is missing is asked next."""
    parts = fa.split_line(run, text)
    if not parts:
        parts = [(run[0], text)]
    today = fa.today_of(filing.ctx.now)
    shown: list[str] = []
    problems: list[str] = []
    for field, part in parts:
        answers = fd.field_answers(filing.draft)
        result = fa.check_answer(field, part, filing.fields, answers, today)
        if isinstance(result, v.Valid):
            if filing.put(fd.field_item(field.name), result.value, result.display):
                shown.append(fa.phrase(field, result.value, result.display))
        else:
            problems.append(result.message)
    if not shown:
        if text.strip() and filing.strong_hit(text):
            return filing.answer_then_ask(text)
        return filing.ask(problems[:1])
    notes = [texts.line_read(shown)] if len(shown) > 1 else []
    return filing.stored([*notes, *problems[:1]])


def _typed_filer(filing: FormTurn, text: str) -> Step:
    sub = filing.draft["sub"]
    stage = sub["stage"] if sub is not None else ""
    if stage == "relation_text":
        result = v.parse_text(text, max_length=fa.RELATION_MAX_LENGTH)
        if isinstance(result, v.Invalid):
            return filing.ask([result.message])
        return _store_filer(filing, for_self=False, relation=str(result.value))
    if stage == "relation":
        choice = v.parse_choice(text, texts.RELATIONS)
        if isinstance(choice, v.Invalid):
            return filing.ask([choice.message])
        return _relation(filing, str(texts.RELATIONS.index(str(choice.value))))
    choice = v.parse_choice(text, (texts.BTN_FOR_SELF, texts.BTN_FOR_OTHER))
    if isinstance(choice, v.Invalid):
        if text.strip() and filing.strong_hit(text):
            return filing.answer_then_ask(text)
        return filing.ask([choice.message])
    return _for_self(filing, "") if choice.value == texts.BTN_FOR_SELF else _for_other(filing, "")


def _typed_address(filing: FormTurn, item: str, field: FormField, text: str) -> Step:
    draft = filing.draft
    sub = draft["sub"]
    book = filing.book
    if sub is not None and sub["item"] == item and sub["stage"] == "village" and sub["value"]:
        village = fa.with_village(sub["value"], text, book)
        if isinstance(village, v.Invalid):
            return filing.ask([village.message])
        value, display = village
        return filing.store(item, value, display)
    draft["sub"] = None
    result = fa.validate_address(field, text, book)
    if isinstance(result, v.Valid):
        return filing.store(item, result.value, result.display)
    if text.strip() and filing.strong_hit(text):
        return filing.answer_then_ask(text)
    if fa.is_old_style_refusal(result.message):
        found = successor(text, book)
        if found is not None:
            question = texts.successor_question(found.old, found.display, found.divided)
            return filing.hold_for_confirmation(item, "successor", question, found.value)
    elif book.find_commune(text, limit=COMMUNE_CHOICES):
        draft["sub"] = {"item": item, "stage": "commune", "text": text, "value": None}
        return filing.ask()
    return filing.ask([result.message])


def _contact(filing: FormTurn) -> Step:
    inbound = filing.turn.inbound
    contact = inbound.contact
    assert contact is not None
    item = filing.current()
    field = filing.field_for(item) if item is not None else None
    if item is None or field is None or field.kind != "phone":
        return filing.ask([texts.CONTACT_NOT_NOW])
    if not contact.user_id or contact.user_id != inbound.key.user_id:
        return filing.ask([texts.CONTACT_NOT_OWN])
    result = v.parse_phone(contact.phone)
    if isinstance(result, v.Invalid):
        return filing.ask([result.message])
    return filing.store(item, result.value, result.display)


# --- Photos --------------------------------------------------------------------------------------


def _photos_sent(filing: FormTurn, attachments: tuple[Attachment, ...]) -> Step:
    """Unchecked files: at a photo step ask bot/ to check them, elsewhere say not yet."""
    item = filing.current()
    slot = filing.slot_for(item) if item is not None else None
    if slot is None:
        return filing.ask([texts.PHOTO_NOT_NOW])
    for attachment in attachments:
        filing.draft["checking"][attachment.ref] = slot.name
    effect = CheckAttachments(slot=slot.name, attachments=attachments)
    return filing.step([Reply(texts.CHECKING)], [effect])


def _photos_checked(filing: FormTurn, attachments: tuple[Attachment, ...]) -> Step:
    draft = filing.draft
    item = filing.current()
    current = filing.slot_for(item) if item is not None else None
    known = {f["sha256"] for files in draft["files"].values() for f in files if f["sha256"]}
    notes: list[str] = []
    accepted: dict[str, int] = {}
    albums: set[str] = set()
    for attachment in attachments:
        name = draft["checking"].pop(attachment.ref, None)
        slot = filing.slot_named(name) if name else current
        if slot is None:
            continue
        if attachment.group_id or len(attachments) > 1:
            albums.add(slot.name)
        if attachment.problem or not attachment.stored_key:
            hint = texts.PHOTO_PROBLEMS.get(attachment.problem, texts.PHOTO_PROBLEM_OTHER)
            if hint not in notes:
                notes.append(hint)
            continue
        if attachment.sha256 and attachment.sha256 in known:
            if texts.PHOTO_DUPLICATE not in notes:
                notes.append(texts.PHOTO_DUPLICATE)
            continue
        if slot.name in draft["reopened"]:
            draft["reopened"].remove(slot.name)
            draft["files"][slot.name] = []
        draft["files"].setdefault(slot.name, []).append(_file_record(attachment))
        known.add(attachment.sha256)
        accepted[slot.name] = accepted.get(slot.name, 0) + 1
    if not accepted and not notes:
        return filing.ask([texts.PHOTO_NOT_NOW])
    for name in accepted:
        slot = filing.slot_named(name)
        assert slot is not None
        if current is not None and name == current.name and (slot.multi_page or name in albums):
            count = len(draft["files"][name])
            notes.append(texts.photos_collected(count, slot.label))
        else:
            notes.append(texts.photo_received(slot.label))
            if current is not None and name == current.name:
                fd.set_status(draft, fd.photo_item(name), fd.DONE)
    return filing.ask(notes)


def _file_record(attachment: Attachment) -> dict[str, Any]:
    return {
        "stored_key": attachment.stored_key,
        "sha256": attachment.sha256,
        "mime_type": attachment.mime_type,
        "filename": attachment.filename,
        "kind": attachment.kind,
        "size": attachment.size,
        "width": attachment.width,
        "height": attachment.height,
        "pages": attachment.pages,
        "group_id": attachment.group_id,
    }


# --- Button actions ------------------------------------------------------------------------------


def _for_self(filing: FormTurn, args: str) -> Step:
    if args or filing.current() != fd.FILER:
        return filing.ask([texts.STALE_BUTTON])
    return _store_filer(filing, for_self=True, relation="")


def _for_other(filing: FormTurn, args: str) -> Step:
    if args or filing.current() != fd.FILER:
        return filing.ask([texts.STALE_BUTTON])
    filing.draft["sub"] = {"item": fd.FILER, "stage": "relation", "text": "", "value": None}
    return filing.ask()


def _relation(filing: FormTurn, args: str) -> Step:
    sub = filing.draft["sub"]
    if (
        filing.current() != fd.FILER
        or sub is None
        or sub["stage"] != "relation"
        or not args.isdigit()
        or int(args) >= len(texts.RELATIONS)
    ):
        return filing.ask([texts.STALE_BUTTON])
    index = int(args)
    if index == len(texts.RELATIONS) - 1:  # "Khác": say it in words
        sub["stage"] = "relation_text"
        return filing.ask()
    return _store_filer(filing, for_self=False, relation=texts.RELATIONS[index])


def _store_filer(filing: FormTurn, *, for_self: bool, relation: str) -> Step:
    display = texts.FOR_SELF if for_self else texts.for_other(relation)
    return filing.store(fd.FILER, {"for_self": for_self, "relation": relation}, display)


def _pick(filing: FormTurn, args: str) -> Step:
    position, _, index = args.partition(":")
    item = filing.current()
    keys = filing.items()
    field = filing.field_for(item) if item is not None else None
    if (
        item is None
        or field is None
        or not position.isdigit()
        or int(position) >= len(keys)
        or keys[int(position)] != item
        or filing.draft["sub"] is not None
    ):
        return filing.ask([texts.STALE_BUTTON])
    options = field.choices if field.kind == "choice" else KIND_OPTIONS.get(field.kind, ())
    if not index.isdigit() or int(index) >= len(options):
        return filing.ask([texts.STALE_BUTTON])
    result = fa.check_answer(
        field,
        options[int(index)],
        filing.fields,
        fd.field_answers(filing.draft),
        fa.today_of(filing.ctx.now),
    )
    if isinstance(result, v.Invalid):  # a sex that contradicts an ID number already given
        return filing.ask([result.message])
    return filing.store_field(item, field, result)


def _suggested(filing: FormTurn, args: str) -> Step:
    """A button with a common answer ("Kinh, Việt Nam"): as if it were typed."""
    position, _, index = args.partition(":")
    item = filing.current()
    keys = filing.items()
    if (
        item is None
        or not position.isdigit()
        or int(position) >= len(keys)
        or keys[int(position)] != item
        or filing.draft["sub"] is not None
    ):
        return filing.ask([texts.STALE_BUTTON])
    options = filing.suggestions(item)
    if not index.isdigit() or int(index) >= len(options):
        return filing.ask([texts.STALE_BUTTON])
    option = options[int(index)]
    if filing.skips(option):
        for field in filing.line_run(item):
            if not field.required:
                fd.clear_item(filing.draft, fd.field_item(field.name))
                fd.set_status(filing.draft, fd.field_item(field.name), fd.SKIPPED)
        return filing.stored()
    return _typed(filing, option)


def _section(filing: FormTurn, key: str) -> Step:
    """A section of the review, opened."""
    shown = filing.section(key) if filing.current() is None else None
    if shown is None:
        return filing.ask()
    return filing.step([shown])


def _review(filing: FormTurn, args: str) -> Step:
    return filing.ask()


def _deliver(filing: FormTurn, how: str) -> Step:
    """From the review: the result by post (its address and phone are asked next), or back
    to the counter."""
    if how not in (fd.POST, fd.COUNTER) or filing.procedure.result_by_post is not True:
        return filing.ask([texts.STALE_BUTTON])
    display = texts.DELIVERY_POST if how == fd.POST else texts.DELIVERY_COUNTER
    return filing.store(fd.DELIVERY, how, display)


def _drop(filing: FormTurn, name: str) -> Step:
    """Photos sent by mistake to an optional paper: gone, and the paper is not sent."""
    draft = filing.draft
    slot = filing.slot_named(name)
    if slot is None or slot.required or not draft["files"].get(name):
        return filing.ask([texts.STALE_BUTTON])
    draft["files"].pop(name, None)
    if name in draft["reopened"]:
        draft["reopened"].remove(name)
    fd.set_status(draft, fd.photo_item(name), fd.SKIPPED)
    return filing.ask([texts.photos_dropped(slot.label)])


def _commune(filing: FormTurn, code: str) -> Step:
    item = filing.current()
    field = filing.field_for(item) if item is not None else None
    value = fa.commune_value(filing.book, code)
    if item is None or field is None or field.kind != "address" or value is None:
        return filing.ask([texts.STALE_BUTTON])
    draft = filing.draft
    sub = draft["sub"]
    typed = sub["text"] if sub is not None and sub["item"] == item else ""
    if typed:
        # "thôn Đông, xã Thái Tân" lacked only the province; "nhà trọ số 5, thôn Đông" did not
        # name the commune pressed at all (this office's, offered first), so it lacked that
        # too: with what the button says, nothing typed is lost.
        lines = [f"{typed}, {value['province_name']}"]
        named = filing.book.find_commune(typed, limit=COMMUNE_CHOICES)
        if all(match.code != code for match in named):
            lines.append(f"{typed}, {value['commune_name']}, {value['province_name']}")
        for line in lines:
            result = fa.validate_address(field, line, filing.book)
            if (
                isinstance(result, v.Valid)
                and result.value["commune_code"] == code
                and (result.value["hamlet"] or result.value["street"])
            ):
                return filing.store(item, result.value, result.display)
    draft["sub"] = {"item": item, "stage": "village", "text": "", "value": value}
    return filing.ask()


def _sure(filing: FormTurn, args: str) -> Step:
    """ "Số này đúng" / "Đúng, dùng địa chỉ mới": keep the answer held back for confirmation."""
    item = filing.current()
    sub = filing.draft["sub"]
    if args or item is None or sub is None or sub["item"] != item or not sub["value"]:
        return filing.ask([texts.STALE_BUTTON])
    value = dict(sub["value"])
    if sub["stage"] == "doubt":
        return filing.store(item, value["value"], value["display"], sure=True)
    if sub["stage"] == "successor":
        return filing.store(item, value, fa.address_display(value))
    return filing.ask([texts.STALE_BUTTON])


def _tone(filing: FormTurn, how: str) -> Step:
    """The answer to the one question about a name typed without marks: the spelling offered
    ("use"), the name as typed ("keep"), or typed again ("retype", asked once more alone)."""
    item = filing.current()
    sub = filing.draft["sub"]
    if item is None or sub is None or sub["item"] != item or sub["stage"] != "tones":
        return filing.ask([texts.STALE_BUTTON])
    held = dict(sub["value"])
    if how == "use" and held["toned"]:
        return filing.store(item, held["toned"], held["toned"], sure=True)
    if how == "keep":
        return filing.store(item, held["value"], held["display"], sure=True)
    if how == "retype":
        filing.draft["sub"] = None
        return filing.ask([texts.TONES_RETYPE])
    return filing.ask([texts.STALE_BUTTON])


_YES_WORDS = frozenset({"dung", "dung roi", "dung a", "dung vay", "phai", "phai a", "ok", "u"})
_KEEP_WORDS = frozenset({"giu nguyen", "giu", "giu nguyen a", "de nguyen"})


def _typed_at_tones(filing: FormTurn, text: str) -> Step | None:
    """ "đúng" or "giữ nguyên" typed at the name question, as the buttons; None for a name."""
    folded = qa.fold(text)
    sub = filing.draft["sub"]
    toned = bool(sub is not None and sub["value"]["toned"])
    if folded in _YES_WORDS and toned:
        return _tone(filing, "use")
    if folded in _KEEP_WORDS:
        return _tone(filing, "keep")
    return None


def _same_phone(filing: FormTurn, args: str) -> Step:
    phone = filing.known_phone()
    if args or filing.current() != fd.POSTAL_PHONE or not phone:
        return filing.ask([texts.STALE_BUTTON])
    return filing.store(fd.POSTAL_PHONE, phone, phone)


def _back(filing: FormTurn, args: str) -> Step:
    draft = filing.draft
    if draft["sub"] is not None:
        draft["sub"] = None
        return filing.ask()
    keys = filing.items()
    item = filing.current()
    position = keys.index(item) if item is not None else len(keys)
    if position == 0:
        return filing.ask([texts.FIRST_QUESTION])
    _focus(filing, keys[position - 1])
    return filing.ask()


def _focus(filing: FormTurn, item: str) -> None:
    draft = filing.draft
    draft["focus"] = item
    draft["sub"] = None
    slot = filing.slot_for(item)
    if slot is not None and slot.name not in draft["reopened"]:
        draft["reopened"].append(slot.name)


def _keep(filing: FormTurn, args: str) -> Step:
    draft = filing.draft
    item = draft["focus"]
    if not item or item not in draft["status"]:
        return filing.ask()
    draft["focus"] = ""
    draft["sub"] = None
    slot = filing.slot_for(item)
    if slot is not None and slot.name in draft["reopened"]:
        draft["reopened"].remove(slot.name)
    return filing.ask()


def _skip(filing: FormTurn, args: str) -> Step:
    draft = filing.draft
    item = filing.current()
    if item is None:
        return filing.ask()
    sub = draft["sub"]
    if sub is not None and sub["item"] == item and sub["stage"] == "village" and sub["value"]:
        value = dict(sub["value"])
        return filing.store(item, value, fa.address_display(value))
    slot = filing.slot_for(item)
    field = filing.field_for(item)
    if slot is not None:
        if draft["files"].get(slot.name):
            if slot.name in draft["reopened"]:
                draft["reopened"].remove(slot.name)
            fd.set_status(draft, item, fd.DONE)
            return filing.ask()
        if slot.required:
            return filing.ask([texts.REQUIRED_PHOTO])
        fd.set_status(draft, item, fd.SKIPPED)
        return filing.ask()
    if item == fd.FILER or field is None or field.required:
        return filing.ask([texts.REQUIRED])
    draft["answers"].pop(item, None)
    fd.set_status(draft, item, fd.SKIPPED)
    return filing.ask()


def _done(filing: FormTurn, args: str) -> Step:
    draft = filing.draft
    item = filing.current()
    slot = filing.slot_for(item) if item is not None else None
    if item is None or slot is None:
        return filing.ask()
    if slot.name in draft["reopened"]:
        draft["reopened"].remove(slot.name)
    if draft["files"].get(slot.name):
        fd.set_status(draft, item, fd.DONE)
        return filing.ask()
    if slot.required:
        return filing.ask([texts.NO_PHOTO_YET])
    fd.set_status(draft, item, fd.SKIPPED)
    return filing.ask()


def _help(filing: FormTurn, args: str) -> Step:
    item = filing.current()
    lines = [texts.HELP_HEADER]
    field = filing.field_for(item) if item is not None else None
    if item is not None and filing.slot_for(item) is not None:
        lines.append(texts.PHOTO_TIPS)
    elif field is not None:
        if field.help:
            lines.append(field.help)
        lines.append(texts.KIND_HELP.get(field.kind, texts.KIND_HELP["text"]))
        example = field.example or KIND_EXAMPLES.get(field.kind, "")
        if example:
            lines.append(texts.example(example))
        if field.kind == "phone":
            lines.append(texts.PHONE_CONTACT)
    lines.append(texts.HELP_NAVIGATION)
    return filing.ask(before=[Reply("\n".join(lines))])


def _cancel(filing: FormTurn, args: str) -> Step:
    filing.draft["prompt"] = "cancel"
    return filing.show_prompt()


def _cancel_yes(filing: FormTurn, args: str) -> Step:
    if filing.draft["prompt"] != "cancel":
        return filing.ask([texts.STALE_BUTTON])
    return _menu(filing.turn, texts.CANCELLED)


def _cancel_no(filing: FormTurn, args: str) -> Step:
    filing.draft["prompt"] = ""
    return filing.ask()


def _resume(filing: FormTurn, args: str) -> Step:
    filing.draft["prompt"] = ""
    return filing.ask()


def _restart(filing: FormTurn, args: str) -> Step:
    filing.turn.state.pop(fd.KEY, None)
    return _begin(filing.turn, filing.procedure, [texts.RESTARTED])


def _switch(filing: FormTurn, code: str) -> Step:
    procedure = _form_procedure(filing.turn, code)
    if procedure is None or filing.draft["prompt"] != f"switch:{code}":
        return filing.ask([texts.STALE_BUTTON])
    filing.turn.state.pop(fd.KEY, None)
    return _begin(filing.turn, procedure)


def _to_menu(filing: FormTurn, args: str) -> Step:
    filing.draft["prompt"] = ""
    filing.draft["sub"] = None
    filing.step([])  # the draft, kept (the menu offers it: engine.main_menu)
    return engine.main_menu(filing.turn, notice=texts.kept_for_later(filing.draft["name"]))


def _edit(filing: FormTurn, args: str) -> Step:
    keys = filing.items()
    if filing.current() is not None or not args.isdigit() or int(args) >= len(keys):
        return filing.ask([texts.STALE_BUTTON])
    _focus(filing, keys[int(args)])
    return filing.ask()


def _send(filing: FormTurn, args: str) -> Step:
    draft = filing.draft
    if not draft["submitted"] and filing.current() is not None:
        return filing.ask()
    draft["submitted"] = True
    draft["prompt"] = ""
    return filing.step([Reply(texts.SENDING)], [_submission(filing)], mode=engine.QA)


def _submission(filing: FormTurn) -> SubmitDossier:
    draft = filing.draft
    answers = fd.field_answers(draft)
    active = set(filing.items())
    fields = {
        f.name: answers[f.name]["value"]
        for f in filing.fields
        if f.name in answers and fd.field_item(f.name) in active
    }
    files = tuple(
        {"slot": slot.name, **record}
        for slot in filing.photos
        if draft["status"].get(fd.photo_item(slot.name)) == fd.DONE
        for record in draft["files"].get(slot.name, [])
    )
    form = filing.procedure.form
    assert form is not None
    filer_value = draft["answers"].get(fd.FILER, {}).get("value") or _filer_by_relation(filing)
    for_self = bool(filer_value.get("for_self", True))
    requester = next(
        (
            str(answers[f.name]["value"])
            for f in filing.fields
            if f.kind == "name" and f.who in ("requester", "") and f.name in answers
        ),
        "",
    )
    own = fd.own_details(form, form.subject).get("name")
    if not requester and for_self and own is not None and own.name in answers:
        # No name of the filer's own is asked: for themselves, they are the subject.
        requester = str(answers[own.name]["value"])
    filer = {
        "for_self": for_self,
        "relation": str(filer_value.get("relation", "")),
        # The form's own relation question asks the filer's own details ("của bạn").
        "name": requester if for_self or fd.relation_field(form) is not None else "",
        "phone": filing.known_phone(),
    }
    post = filing.procedure.result_by_post is True and fd.delivery_of(draft) == fd.POST
    postal: dict[str, Any] | None = None
    if post:
        address = draft["answers"].get(fd.POSTAL_ADDRESS)
        phone = draft["answers"].get(fd.POSTAL_PHONE)
        postal = {
            **(address["value"] if address else {}),
            "display": address["display"] if address else "",
            "phone": phone["value"] if phone else filing.known_phone(),
            "recipient": requester,
        }
    return SubmitDossier(
        submission_key=draft["id"],
        procedure_code=filing.procedure.code,
        commune_code=filing.ctx.commune.code,
        fields=fields,
        files=files,
        filer=filer,
        result_delivery=fd.POST if post else fd.COUNTER,
        postal_address=postal,
        on_behalf_of=behalf.on_behalf(filing.turn.state, draft["id"]),
    )


def _filer_by_relation(filing: FormTurn) -> dict[str, Any]:
    """Who filed, from the form's own relation question: for themselves when the party they
    chose is the one the dossier is about (``FilingForm.subject``)."""
    form = filing.procedure.form
    assert form is not None
    relation = fd.relation_field(form)
    if relation is None:
        return {}
    answer = filing.draft["answers"].get(fd.field_item(relation.name))
    party = fd.party_of(form, filing.draft)
    return {
        "for_self": bool(party) and party == form.subject,
        "relation": str(answer["display"]) if answer is not None else "",
    }


_ACTIONS: dict[str, Callable[[FormTurn, str], Step]] = {
    "self": _for_self,
    "other": _for_other,
    "rel": _relation,
    "pick": _pick,
    "sug": _suggested,
    "sec": _section,
    "review": _review,
    "deliver": _deliver,
    "drop": _drop,
    "addr": _commune,
    "sure": _sure,
    "same": _same_phone,
    "tone": _tone,
    "back": _back,
    "keep": _keep,
    "skip": _skip,
    "done": _done,
    "help": _help,
    "cancel": _cancel,
    "cancel_yes": _cancel_yes,
    "cancel_no": _cancel_no,
    "resume": _resume,
    "restart": _restart,
    "switch": _switch,
    "menu": _to_menu,
    "edit": _edit,
    "send": _send,
}
# Actions that answer the pause prompt itself, or need no "continue?" first.
_ANY_TIME = frozenset({"resume", "restart", "switch", "cancel", "cancel_yes", "cancel_no"})
_ANY_TIME |= {"menu", "send", "sec", "review"}
_PROMPT_ACTIONS = frozenset({"resume", "restart", "switch", "cancel", "cancel_yes", "cancel_no"})
_NAV_ACTIONS = {
    fa.Nav.BACK: _back,
    fa.Nav.SKIP: _skip,
    fa.Nav.CANCEL: _cancel,
    fa.Nav.HELP: _help,
    fa.Nav.DONE: _done,
}


# --- Reminders ---------------------------------------------------------------------------------


def reminder_replies(state: dict[str, Any] | None, ctx: Context) -> tuple[Reply, ...]:
    """The one reminder before an open draft expires, or nothing.

    Due from ``ctx.remind_before`` ahead of expiry, once per pause: after sending it, the bot
    saves ``mark_reminded(state)`` so the next run stays quiet until the user answers again.
    """
    if not isinstance(state, dict):
        return ()
    draft = fd.read_draft(state)
    if draft is None or draft["submitted"] or draft["reminded_for"] == draft["updated_at"]:
        return ()
    updated = fd.parse_time(draft["updated_at"])
    if updated is None:
        return ()
    left = ctx.draft_ttl - fd.elapsed(ctx.now, updated)
    if left <= timedelta(0) or left > ctx.remind_before:
        return ()
    days = max(1, math.ceil(left / timedelta(days=1)))
    payload = ":".join([FORM, draft["id"][: fd.SHORT_ID], "resume"])
    button = Button(texts.BTN_CONTINUE, payload)
    return (Reply(texts.reminder(draft["name"], days), buttons=((button,),)),)


def mark_reminded(state: dict[str, Any]) -> dict[str, Any]:
    """The state to save once the reminder went out: no second one for this pause, and the
    reminder's button can be typed as well as pressed."""
    found = fd.read_draft(state)
    if found is None:
        return state
    draft = copy_json(found)  # ``state`` is the stored one: leave it as it is
    marked = dict(state)
    draft["reminded_for"] = draft["updated_at"]
    marked[fd.KEY] = draft
    payload = ":".join([FORM, draft["id"][: fd.SHORT_ID], "resume"])
    marked["buttons"] = [[texts.BTN_CONTINUE, payload]]
    return marked


# --- The flow ----------------------------------------------------------------------------------

FLOW = Flow(
    name="filing",
    verbs={FORM: on_form, engine.FILE: on_file},
    modes={MODE: on_text},
    on_stale={MODE: on_stale},
    intercepts={engine.QA: on_qa_text},
)
