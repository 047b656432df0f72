"""Whatever a user types, presses or sends, the form never raises and never keeps an answer that
its validator would refuse, nor a question in place of an answer."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs import filing_answers as fa
from dialogs import filing_draft as fd
from dialogs import validators as v
from dialogs.model import Contact
from dialogs.texts import filing as texts
from knowledge.model import FormField, Procedure
from tests.dialogs.test_filing import (
    BOOK,
    SMALL,
    FormChat,
    answer,
    photo,
    real_birth,
    refused,
    stored,
)
from tests.dialogs.transcript import KEY

TYPED = [
    "Trần Thị Hoa",
    "nguyễn văn an",
    "Hoa 123",
    "lệ phí bao nhiêu",
    "mấy ngày?",
    "có mất phí không",
    "đăng ký kết hôn",
    "20/5/1998",
    "31/02/1998",
    "15/02/2026",
    "01/01/2090",
    "1/1/90",
    "031198001234",
    "031199001234",
    "031095004321",
    "031090001234",
    "0912 345 678",
    "12345",
    "có",
    "không",
    "vâng",
    "nam",
    "nữ",
    "con gái",
    "1",
    "2",
    "hai bản",
    "-3",
    "Kinh",
    "Việt Nam",
    "Trần Thị Hoa, 20/05/1998, 031198001234",
    "Nguyễn Văn An, 15/02/2026, bé gái",
    "Số 15, quyển 01/2020, ngày 12/06/2020, UBND xã Thái Tân",
    "Kinh, Việt Nam",
    "Không cần",
    "thôn Đông, xã Thái Tân, TP Hải Phòng",
    "thái tân",
    "tân hưng",
    "xã Minh Tân, huyện Nam Sách, Hải Dương",
    "xóm Bắc",
    "Mẹ",
    "quay lại",
    "bỏ qua",
    "hủy",
    "/huy",
    "?",
    "trợ giúp",
    "xong",
    "menu",
    "",
    "   ",
    "x" * 300,
]

PAYLOAD_ACTIONS = [
    "self",
    "other",
    "rel",
    "pick",
    "addr",
    "same",
    "back",
    "keep",
    "skip",
    "done",
    "help",
    "cancel",
    "cancel_yes",
    "cancel_no",
    "resume",
    "restart",
    "switch",
    "menu",
    "edit",
    "send",
    "sug",
    "sec",
    "review",
    "deliver",
    "drop",
    "zzz",
]

turns = st.one_of(
    st.tuples(st.just("say"), st.sampled_from(TYPED)),
    st.tuples(st.just("say"), st.text(max_size=30)),
    st.tuples(st.just("press"), st.integers(0, 60)),
    st.tuples(st.just("press"), st.integers(0, 60)),
    st.tuples(st.just("press"), st.integers(0, 60)),
    st.tuples(
        st.just("payload"),
        st.tuples(
            st.sampled_from(PAYLOAD_ACTIONS),
            st.sampled_from(["", "0", "1", "5:0", "5:1", "99", "10642", "x", "1.000894"]),
        ),
    ),
    st.tuples(st.just("raw"), st.text(max_size=70)),
    st.tuples(st.just("photo"), st.sampled_from(["a", "b", "c"])),
    st.tuples(
        st.just("checked"),
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["", "", "blurred", "too_dark", "weird"]),
            st.sampled_from(["", "g1"]),
        ),
    ),
    st.tuples(st.just("contact"), st.sampled_from(["0912345678", "12", KEY.user_id, ""])),
    st.tuples(st.just("wait"), st.sampled_from([1, 7, 24 * 31])),
)


def _person(field: FormField, procedure: Procedure, answers: dict[str, Any]) -> dict[str, Any]:
    assert procedure.form is not None
    found: dict[str, Any] = {}
    for other in procedure.form.fields:
        if not field.who or other.who != field.who or other.name not in answers:
            continue
        value = answers[other.name]["value"]
        if other.kind == "date" and "birth" in other.name:
            found["birth_date"] = date.fromisoformat(value)
        if other.kind == "sex":
            found["sex"] = value
    return found


def _still_valid(field: FormField, answer: dict[str, Any], procedure: Procedure, chat: Any) -> bool:
    value, display = answer["value"], answer["display"]
    answers = fd.field_answers(chat.draft)
    today = fa.today_of(chat.now)
    if field.kind == "address":
        return fa.address_is_valid(value, BOOK)
    result: v.Result
    if field.kind == "name":
        # parse_name is not idempotent for a few letters ("ß" → "SS"), so only validity counts.
        return isinstance(v.parse_name(display), v.Valid)
    elif field.kind == "date":
        result = v.parse_date(display, today)
    elif field.kind == "id_number":
        result = v.parse_id_number(value, **_person(field, procedure, answers))
    elif field.kind == "phone":
        result = v.parse_phone(value)
    elif field.kind == "choice":
        return value in field.choices
    elif field.kind == "yes_no":
        return isinstance(value, bool)
    elif field.kind == "sex":
        return value in (v.MALE, v.FEMALE)
    elif field.kind == "number":
        return isinstance(value, int) and value >= 0
    else:
        result = v.parse_text(display, max_length=field.max_length or fa.TEXT_MAX_LENGTH)
    return isinstance(result, v.Valid) and result.value == value


def _check(chat: FormChat, procedure: Procedure) -> None:
    assert chat.state is not None
    if fd.KEY not in chat.state:
        return
    draft = fd.read_draft(chat.state)
    assert draft is not None, "the form only ever saves drafts it can read back"
    if draft["code"] != procedure.code:
        return
    assert procedure.form is not None
    for field in procedure.form.fields:
        answer = draft["answers"].get(fd.field_item(field.name))
        if answer is None:
            continue
        assert _still_valid(field, answer, procedure, chat), (field.name, answer)
        assert not fa.looks_like_question(answer["display"]), (field.name, answer)
    hashes = [f["sha256"] for files in draft["files"].values() for f in files]
    assert len(hashes) == len(set(hashes))


def _play(chat: FormChat, kind: str, arg: Any) -> None:
    if kind == "say":
        chat.say(arg)
    elif kind == "press":
        buttons = chat.buttons
        if buttons:
            chat.send(payload=buttons[arg % len(buttons)].payload)
        else:
            chat.say("")
    elif kind == "payload":
        action, extra = arg
        short = chat.draft["id"][:8] if chat.state and fd.KEY in chat.state else "00000000"
        chat.send(payload=":".join(p for p in ("form", short, action, extra) if p))
    elif kind == "raw":
        chat.send(payload=arg)
    elif kind == "photo":
        chat.send(attachments=(photo(arg),))
    elif kind == "checked":
        ref, problem, group = arg
        sent = photo(ref, group)
        chat.send(attachments=(refused(sent, problem) if problem else stored(sent, ref),))
    elif kind == "contact":
        phone_or_user = arg
        if phone_or_user == KEY.user_id:
            chat.send(contact=Contact(phone="+84 912 345 678", user_id=KEY.user_id))
        else:
            chat.send(contact=Contact(phone=phone_or_user, user_id="other"))
    elif kind == "wait":
        chat.later(hours=arg)


SMALL_ANSWERS = ["Lê Văn Tám", "01/01/1990", "nam", "031090001234", "bỏ qua"]


def _prefill(chat: FormChat, procedure: Procedure, count: int) -> None:
    """Answer the first ``count`` questions well, so random turns also land on later steps
    (photos, delivery, review, submission)."""
    chat.press(texts.BTN_FOR_SELF if procedure is SMALL else "Mẹ")
    for index in range(count):
        if "Câu " not in chat.replies[-1].text:
            break
        if procedure is SMALL:
            chat.say(SMALL_ANSWERS[index % len(SMALL_ANSWERS)])
        else:
            answer(chat, chat.asked())
    if count > 30:
        chat.send(attachments=(photo("first"),))
        chat.send(attachments=(stored(photo("first"), "first"),))
    if count > 35 and texts.BTN_SKIP in chat.labels:
        chat.press(texts.BTN_SKIP)
        if count % 2 and texts.BTN_TO_POST in chat.labels:
            chat.press(texts.BTN_TO_POST)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    which=st.sampled_from(["birth", "small"]),
    prefill=st.integers(0, 40),
    script=st.lists(turns, min_size=1, max_size=40),
)
def test_random_turns_never_raise_nor_store_a_bad_answer(
    which: str, prefill: int, script: list[tuple[str, Any]]
) -> None:
    procedure = real_birth() if which == "birth" else SMALL
    chat = FormChat()
    chat.send(payload=f"file:{procedure.code}")
    _prefill(chat, procedure, prefill)
    for kind, arg in script:
        _play(chat, kind, arg)  # FormChat checks JSON, limits and that there is a reply
        _check(chat, procedure)
