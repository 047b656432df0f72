"""The filing draft: its JSON layout inside the conversation state, and what is asked next.

The draft lives at ``state["filing"]`` and is plain JSON, so it survives a restart::

    {
      "v": 1,                         # layout of this dict (the state keeps its own "version")
      "id": "9c1f…",                  # 24 hex digits: the submission key, stable per draft
      "code": "1.001193", "name": "Đăng ký khai sinh", "total": 26,   # total = form questions
      "started_at": ISO, "updated_at": ISO, "reminded_for": ISO or "",
      "status": {item: "answered" | "skipped" | "done"},
      "answers": {item: {"value": JSON, "display": str}},
      "files": {slot: [{"stored_key", "sha256", "mime_type", "filename", "kind", "size",
                        "width", "height", "pages", "group_id"}]},
      "reopened": [slot, …],          # slots being redone: the next good photo replaces theirs
      "checking": {ref: slot},        # attachments sent to bot/ for checking, and their slot
      "focus": item or "",            # an item asked again (back, edit) although it is done
      "prompt": "" | "cancel" | "resume" | "switch:<code>",
      "sub": null | {"item", "stage": "relation" | "relation_text" | "commune" | "village",
                     "text": str, "value": {address} or null},
      "submitted": bool,
      "late": [item, …], "told": [item, …],   # optional: dates past late_after_days, and
                                              # those whose late_note was said
      "toned": [item, …],             # optional: names asked about once (typed without marks)
    }

Items are the things asked, in order: ``"filer"`` (only for a form without a relation question
of its own, see ``FormField.parties``), ``"f:<field name>"`` per form field whose ``ask_if``
holds, ``"p:<slot name>"`` per photo slot likewise, then ``"delivery"`` (when the result can come
by post: never asked in turn, the review shows the counter and offers the post) and, for
delivery by post, ``"postal_address"`` and ``"postal_phone"``. The item asked is the focus,
else the first one with no status (Rasa's ``required_slots``); none left means the review.

An answer copied from the filer's own (the mother's name when the filer is the mother) carries
``"from": <requester field>`` and follows its source (:func:`sync_parties`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from knowledge.catalogue import condition_field
from knowledge.model import FilingForm, FormField, Procedure

DRAFT_LAYOUT = 1
KEY = "filing"
FILER = "filer"
DELIVERY = "delivery"
POSTAL_ADDRESS = "postal_address"
POSTAL_PHONE = "postal_phone"
FIELD_PREFIX = "f:"
PHOTO_PREFIX = "p:"
ANSWERED = "answered"
SKIPPED = "skipped"
DONE = "done"
POST = "post"
COUNTER = "counter"
SHORT_ID = 8  # draft id characters in a button payload: enough to tell drafts apart
_STATUSES = frozenset({ANSWERED, SKIPPED, DONE})
# An answer held back for a one-tap confirmation: an ID number that disagrees with its owner
# ("doubt"), an old address's successor ("successor"), a name typed without marks ("tones").
# ``text`` is the question asked.
CONFIRM_STAGES = frozenset({"doubt", "successor", "tones"})
_SUB_STAGES = frozenset({"relation", "relation_text", "commune", "village", *CONFIRM_STAGES})


@dataclass(frozen=True, slots=True)
class DraftInfo:
    """An open draft, as the reminder job and the menu see it."""

    procedure_code: str
    name: str
    answered: int
    total: int
    updated_at: datetime


def draft_id(conversation: str, message_id: str, code: str) -> str:
    """Stable per draft: made from the conversation, its first message and the procedure."""
    seed = f"{conversation}|{message_id}|{code}".encode()
    return hashlib.sha256(seed).hexdigest()[:24]


def new_draft(procedure: Procedure, draft_key: str, now: datetime) -> dict[str, Any]:
    stamp = now.isoformat()
    return {
        "v": DRAFT_LAYOUT,
        "id": draft_key,
        "code": procedure.code,
        "name": procedure.name,
        "total": len(procedure.form.fields) if procedure.form else 0,
        "started_at": stamp,
        "updated_at": stamp,
        "reminded_for": "",
        "status": {},
        "answers": {},
        "files": {},
        "reopened": [],
        "checking": {},
        "focus": "",
        "prompt": "",
        "sub": None,
        "submitted": False,
    }


def parse_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def elapsed(now: datetime, since: datetime) -> timedelta:
    """Time between two readings even if one of them lacks a time zone (an old state)."""
    if (now.tzinfo is None) != (since.tzinfo is None):
        since = since.replace(tzinfo=now.tzinfo)
    return now - since


def _str_dict(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _file_ok(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("stored_key"), str)
        and bool(value["stored_key"])
        and isinstance(value.get("sha256"), str)
    )


def read_draft(state: dict[str, Any]) -> dict[str, Any] | None:
    """The draft in ``state`` (itself, not a copy: the engine's turn state is already private),
    checked key by key; None when absent or not one we can read."""
    raw = state.get(KEY)
    if not isinstance(raw, dict) or raw.get("v") != DRAFT_LAYOUT:
        return None
    ok = (
        all(isinstance(raw.get(k), str) for k in ("id", "code", "name", "reminded_for"))
        and len(raw["id"]) >= SHORT_ID
        and isinstance(raw.get("total"), int)
        and parse_time(raw.get("started_at")) is not None
        and parse_time(raw.get("updated_at")) is not None
        and _str_dict(raw.get("status"))
        and all(s in _STATUSES for s in raw["status"].values())
        and isinstance(raw.get("answers"), dict)
        and all(
            isinstance(a, dict) and "value" in a and isinstance(a.get("display"), str)
            for a in raw["answers"].values()
        )
        and isinstance(raw.get("files"), dict)
        and all(
            isinstance(files, list) and all(_file_ok(f) for f in files)
            for files in raw["files"].values()
        )
        and isinstance(raw.get("reopened"), list)
        and all(isinstance(s, str) for s in raw["reopened"])
        and _str_dict(raw.get("checking"))
        and isinstance(raw.get("focus"), str)
        and isinstance(raw.get("prompt"), str)
        and isinstance(raw.get("submitted"), bool)
        and _sub_ok(raw.get("sub"))
    )
    return raw if ok else None


def _sub_ok(sub: object) -> bool:
    if sub is None:
        return True
    return (
        isinstance(sub, dict)
        and isinstance(sub.get("item"), str)
        and sub.get("stage") in _SUB_STAGES
        and isinstance(sub.get("text"), str)
        and (sub.get("value") is None or _str_dict(sub.get("value")))
    )


# --- Items -------------------------------------------------------------------------------------


def field_item(name: str) -> str:
    return FIELD_PREFIX + name


def photo_item(name: str) -> str:
    return PHOTO_PREFIX + name


def relation_field(form: FilingForm) -> FormField | None:
    """The form's own question of who the filer is (``parties`` set), asked first."""
    return next((f for f in form.fields if f.parties), None)


_TRUE_WORDS = frozenset({"có", "true", "yes"})


def _matches(answer: dict[str, Any] | None, wanted: str) -> bool:
    if answer is None:
        return False
    value = answer["value"]
    if isinstance(value, bool):
        return value is (wanted.casefold() in _TRUE_WORDS)
    return wanted in (str(value), answer["display"])


def condition_holds(condition: str, draft: dict[str, Any]) -> bool:
    """An ``ask_if``: "a" (answered), "!a" (not answered), "a=v", "a!=v"; "&" joins them."""
    condition = condition.strip()
    if not condition:
        return True
    if "&" in condition:
        return all(condition_holds(part, draft) for part in condition.split("&"))
    answers = draft["answers"]
    if "=" in condition:
        name, _, wanted = condition.partition("=")
        negated = name.endswith("!")
        answer = answers.get(field_item(name.rstrip("!").strip()))
        return _matches(answer, wanted.strip()) is not negated
    negated = condition.startswith("!")
    answer = answers.get(field_item(condition.lstrip("!").strip()))
    present = answer is not None and answer["value"] not in ("", None)
    return present is not negated


def items(procedure: Procedure, draft: dict[str, Any]) -> list[str]:
    form = procedure.form
    if form is None:
        return []
    keys = [] if relation_field(form) is not None else [FILER]
    keys += [field_item(f.name) for f in form.fields if condition_holds(f.ask_if, draft)]
    keys += [photo_item(p.name) for p in form.photos if condition_holds(p.ask_if, draft)]
    if procedure.result_by_post:
        keys.append(DELIVERY)
        if delivery_of(draft) == POST:
            keys += [POSTAL_ADDRESS, POSTAL_PHONE]
    return keys


def _likely(condition: str, draft: dict[str, Any]) -> bool:
    """As :func:`condition_holds`, but a field with no answer yet is taken to be answered as
    most people do (given, not the value a condition names): what will be asked, as far as
    the answers so far tell."""
    parts = [p.strip() for p in condition.split("&") if p.strip()]
    for part in parts:
        name = condition_field(part)
        if field_item(name) in draft["status"]:
            if not condition_holds(part, draft):
                return False
        elif part.startswith("!") or ("=" in part and "!=" not in part):
            return False
    return True


def questions(procedure: Procedure, draft: dict[str, Any], current: str | None) -> list[list[str]]:
    """The form's questions as the citizen meets them, in order: each a field with the fields
    that join it (asked on one line, ``FormField.joins``), as items. Only those that will be
    asked: not a field its ``ask_if`` rules out, nor a part the filer's own answers filled in
    (the mother's details when she files) or a volunteer filled in from the villager's details
    (``"prefilled"``), unless it is the one asked now."""
    form = procedure.form
    if form is None:
        return []
    groups: list[list[FormField]] = []
    for field in form.fields:
        if field.joins and groups:
            groups[-1].append(field)
        else:
            groups.append([field])
    answers = draft["answers"]
    party = party_of(form, draft)
    found: list[list[str]] = []
    for group in groups:
        asked = [f for f in group if field_item(f.name) == current or _likely(f.ask_if, draft)]
        keys = [field_item(f.name) for f in asked]
        copied = all(
            "from" in answers.get(field_item(f.name), {})
            or answers.get(field_item(f.name), {}).get("prefilled")
            or (bool(party) and f.who == party and counterpart(form, f) is not None)
            for f in asked
        )
        if keys and (not copied or current in keys):
            found.append(keys)
    return found


def question_progress(procedure: Procedure, draft: dict[str, Any], item: str) -> tuple[int, int]:
    """(the number of the question that asks ``item``, how many questions there are): the
    numbers go 1, 2, 3… whatever is skipped or copied; 0 for an item that is not a question."""
    found = questions(procedure, draft, item)
    index = next((i for i, keys in enumerate(found, 1) if item in keys), 0)
    return index, len(found)


def questions_answered(procedure: Procedure, draft: dict[str, Any]) -> tuple[int, int]:
    """(questions answered, questions in all), for "đã trả lời 3/10 câu"."""
    found = questions(procedure, draft, None)
    done = sum(1 for keys in found if all(k in draft["status"] for k in keys))
    return done, len(found)


def delivery_of(draft: dict[str, Any]) -> str:
    answer = draft["answers"].get(DELIVERY)
    return POST if answer is not None and answer.get("value") == POST else COUNTER


def current_item(procedure: Procedure, draft: dict[str, Any]) -> str | None:
    """The item to ask now; None when everything is answered (the review)."""
    keys = items(procedure, draft)
    if draft["focus"] in keys:
        return str(draft["focus"])
    # The delivery is a choice on the review (the counter unless the post is chosen there).
    return next((k for k in keys if k not in draft["status"] and k != DELIVERY), None)


def party_of(form: FilingForm, draft: dict[str, Any]) -> str:
    """The ``who`` the filer is by their relation answer ("mother"), or ""."""
    relation = relation_field(form)
    answer = draft["answers"].get(field_item(relation.name)) if relation is not None else None
    if relation is None or answer is None or answer["value"] not in relation.choices:
        return ""
    return relation.parties[relation.choices.index(answer["value"])]


REQUESTER = "requester"


def counterpart(form: FilingForm, field: FormField) -> FormField | None:
    """The requester's field that says the same of the filer: mother_name -> requester_name."""
    prefix = f"{field.who}_"
    if not field.who or field.who == REQUESTER or not field.name.startswith(prefix):
        return None
    name = f"{REQUESTER}_{field.name[len(prefix) :]}"
    return next((f for f in form.fields if f.name == name and f.kind == field.kind), None)


_OWN_KINDS = ("name", "id_number", "phone")


def own_details(form: FilingForm, who: str) -> dict[str, FormField]:
    """A party's own name, ID number and phone among the form's fields, by kind: the first
    field of each kind that is ``who``'s (the owner's name, «Họ và tên người đăng ký tạm
    trú», comes before the host's, «Họ và tên chủ nhà»); none for no party."""
    found: dict[str, FormField] = {}
    for field in form.fields:
        if who and field.who == who and field.kind in _OWN_KINDS:
            found.setdefault(field.kind, field)
    return found


def sync_parties(form: FilingForm, draft: dict[str, Any]) -> list[str]:
    """Fill the filer's party from the filer's own answers (and drop copies that no longer
    hold); the names of the fields newly filled."""
    party = party_of(form, draft)
    answers = draft["answers"]
    for field in form.fields:
        item = field_item(field.name)
        answer = answers.get(item)
        if answer is None or "from" not in answer:
            continue
        source = answers.get(field_item(str(answer["from"])))
        if field.who != party or source is None or source["value"] != answer["value"]:
            clear_item(draft, item)
    filled: list[str] = []
    if not party:
        return filled
    for field in form.fields:
        source_field = counterpart(form, field) if field.who == party else None
        item = field_item(field.name)
        source = answers.get(field_item(source_field.name)) if source_field else None
        if source_field is None or source is None or item in answers:
            continue
        answers[item] = {"value": source["value"], "display": source["display"]}
        answers[item]["from"] = source_field.name
        draft["status"][item] = ANSWERED
        filled.append(field.name)
    return filled


def set_status(draft: dict[str, Any], item: str, status: str) -> None:
    draft["status"][item] = status
    if draft["focus"] == item:
        draft["focus"] = ""
    draft["sub"] = None


def clear_item(draft: dict[str, Any], item: str) -> None:
    draft["status"].pop(item, None)
    draft["answers"].pop(item, None)


def field_answers(draft: dict[str, Any]) -> dict[str, Any]:
    """Answers of form fields by field name (without the "f:" of their item)."""
    return {
        key[len(FIELD_PREFIX) :]: answer
        for key, answer in draft["answers"].items()
        if key.startswith(FIELD_PREFIX)
    }


def answered_count(draft: dict[str, Any]) -> int:
    return sum(1 for k in draft["status"] if k.startswith(FIELD_PREFIX))


FORM_VERB = "form"  # the filing flow's payload verb (dialogs.filing_screens.FORM)


def resume_payload(state: dict[str, Any] | None) -> str | None:
    """The «Tiếp tục khai» payload of the open draft in ``state``, or None."""
    draft = read_draft(state) if isinstance(state, dict) else None
    if draft is None or draft["submitted"]:
        return None
    return ":".join([FORM_VERB, draft["id"][:SHORT_ID], "resume"])


def draft_summary(state: dict[str, Any] | None) -> DraftInfo | None:
    """The open (not yet submitted) draft in a stored state, or None."""
    draft = read_draft(state) if isinstance(state, dict) else None
    if draft is None or draft["submitted"]:
        return None
    updated = parse_time(draft["updated_at"])
    if updated is None:
        return None
    return DraftInfo(
        procedure_code=draft["code"],
        name=draft["name"],
        answered=answered_count(draft),
        total=draft["total"],
        updated_at=updated,
    )
