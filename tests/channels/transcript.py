"""What the citizen does, written once as data, and what every channel must show for it.

A transcript is a list of steps: an action (start, type, press a button by its label, send a
photo) and a piece of text the screen after it must show. Each channel driver turns the
actions into that channel's own wire messages, so the same list runs everywhere.
"""

from __future__ import annotations

import io
import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from PIL import Image, ImageDraw, ImageFont

from dialogs.model import ConversationKey
from dialogs.texts import filing as ftexts

# --- Actions -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    """Open the conversation the way the channel does (/start, follow, page load, greeting)."""


@dataclass(frozen=True, slots=True)
class Type:
    text: str


@dataclass(frozen=True, slots=True)
class Press:
    """Press the button with this label, as the channel offers it (tap, number, callback)."""

    label: str


@dataclass(frozen=True, slots=True)
class SendPhoto:
    """Send the transcript's document photo (:func:`document_photo`); another ``page`` is
    another photo (a second paper is not the same picture twice)."""

    page: int = 0


Action = Start | Type | Press | SendPhoto


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    expect: str  # text the screen after the action must show


# --- What the citizen saw ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Screen:
    """One turn as the citizen saw it: the lines of text and the buttons (or numbered choices).

    Blank lines and line-edge spaces are dropped and text is NFC, so a message split in two
    reads the same as one; files and photos the bot sent are not part of it.
    """

    lines: tuple[str, ...]
    buttons: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def screen_of(texts: Iterable[str], buttons: Iterable[str]) -> Screen:
    lines = tuple(
        unicodedata.normalize("NFC", line).strip()
        for text in texts
        for line in text.split("\n")
        if line.strip()
    )
    return Screen(lines, tuple(buttons))


class Driver(Protocol):
    """One citizen on one channel, playing actions through the real channel adapter."""

    @property
    def name(self) -> str: ...

    @property
    def key(self) -> ConversationKey:
        """The conversation key the channel gives this citizen (recorded as the filer)."""
        ...

    async def start(self) -> Screen: ...

    async def type(self, text: str) -> Screen: ...

    async def press(self, label: str) -> Screen: ...

    async def send_photo(self, data: bytes) -> Screen: ...


class ChannelDriver(Driver, Protocol):
    """A driver on a real channel, where files and office notices also arrive after the turn."""

    async def documents(self) -> list[tuple[str, bytes]]:
        """The files the citizen has received (waiting a bounded time for the first)."""
        ...

    async def notice(self, expect: str) -> Screen:
        """What the assistant wrote first since the last screen, once it shows ``expect``
        (waiting a bounded time); its buttons are the ones the next press looks at."""
        ...


class TranscriptError(AssertionError):
    pass


async def play(driver: Driver, steps: Sequence[Step], photo: bytes) -> list[Screen]:
    """Every screen, in order; stops at the first step whose screen lacks its expected text."""
    screens: list[Screen] = []
    for number, step in enumerate(steps, 1):
        match step.action:
            case Start():
                screen = await driver.start()
            case Type(text):
                screen = await driver.type(text)
            case Press(label):
                screen = await driver.press(label)
            case SendPhoto(page):
                screen = await driver.send_photo(photo if page == 0 else document_photo(seed=page))
        screens.append(screen)
        if step.expect not in screen.text:
            raise TranscriptError(
                f"{driver.name}, step {number} ({step.action}): expected {step.expect!r}, "
                f"the citizen saw:\n{screen.text}\nbuttons: {list(screen.buttons)}"
            )
    return screens


def find_button(name: str, buttons: Sequence[str], label: str) -> int:
    """The index of the button to press; the last one when a label shows twice in a turn."""
    for index in range(len(buttons) - 1, -1, -1):
        if buttons[index] == label:
            return index
    raise TranscriptError(f"{name}: no button {label!r} on screen; buttons: {list(buttons)}")


# --- Comparing channels ------------------------------------------------------------------------

# A receipt names the dossier and the minute it was received; a reference run a moment apart
# differs there and in nothing else.
_DOSSIER_CODE = re.compile(r"\b\d{3}\.\d{2}\.\d{2}\.[A-Z0-9]+-\d{6}-\d{4}\b")
_RECEIVED_AT = re.compile(r"\b\d{1,2}:\d{2} ngày \d{2}/\d{2}/\d{4}\b")
_APPOINTMENT = re.compile(r"(Thứ \w+|Chủ Nhật), \d{2}/\d{2}/\d{4}")


def without_moment(screen: Screen) -> Screen:
    def mask(line: str) -> str:
        line = _DOSSIER_CODE.sub("<mã hồ sơ>", line)
        line = _RECEIVED_AT.sub("<giờ nhận>", line)
        return _APPOINTMENT.sub("<ngày hẹn>", line)

    return Screen(tuple(mask(line) for line in screen.lines), screen.buttons)


def is_subsequence(wanted: Sequence[str], seen: Sequence[str]) -> bool:
    remaining = iter(seen)
    return all(any(line == other for other in remaining) for line in wanted)


# --- The filing ----------------------------------------------------------------------------

CODE = "2.000635"  # Cấp bản sao Trích lục hộ tịch, bản sao Giấy khai sinh: online, by post
QUESTION = "xin bản sao giấy khai sinh"
NAME = "Cấp bản sao Trích lục hộ tịch, bản sao Giấy khai sinh"
BTN_FILE = "Nộp hồ sơ"  # the procedure card's button (dialogs.texts.common)
BTN_ALL_PAPERS = "Xem đủ giấy tờ"  # the card's first detail button
RELATION = "Của người khác (có ủy quyền)"
SENDING = ftexts.SENDING
FILED = "Đã nhận hồ sơ của bạn"

_INTRO = [
    Step(Start(), "Bạn cần giúp gì ạ?"),
    # The short first answer, then its full paper list (which names the code), then filing:
    # who files comes first, in the procedure's own terms.
    Step(Type(QUESTION), f"{NAME}\nGiấy tờ cần có:"),
    Step(Press(BTN_ALL_PAPERS), f"{NAME}\nMã thủ tục: {CODE}"),
    Step(Press(BTN_FILE), "Câu 1/9: Bạn xin bản sao giấy tờ của ai ạ?"),
    Step(Press(RELATION), "Câu 2/9: Họ và tên của bạn (người đi xin)"),
]
_UP_TO_COPIES = [
    *_INTRO,
    Step(Type("nguyễn văn an"), "Câu 3/9: Số căn cước"),
    Step(Type("031075001234"), "Câu 4/9: Bạn cần bản sao giấy gì ạ?"),
    Step(Press("Giấy khai sinh"), "Câu 5/9: Họ và tên người có tên trên giấy"),
    Step(Type("trần thị bình"), "Câu 6/9: Người đó sinh ngày nào ạ?"),
    Step(Type("15/3/2020"), "Câu 7/9: Giấy đó đăng ký ở xã nào"),
    Step(Type("UBND xã Thái Tân, năm 2020"), "Câu 8/9: Bạn cần mấy bản sao ạ?"),
]

FILING = [
    *_UP_TO_COPIES,
    # "2 bản", not a bare "2": see test_a_bare_number_answers_the_question_on_every_channel.
    Step(Type("2 bản"), "Câu 9/9: Số điện thoại"),
    Step(Type("0912345678"), "Ảnh 1/1: Bạn chụp Văn bản ủy quyền"),
    Step(SendPhoto(), "Đã nhận 1 ảnh Văn bản ủy quyền"),
    # The result at the counter unless changed on the review.
    Step(Press(ftexts.BTN_DONE), ftexts.review_title(NAME)),
    Step(Press(ftexts.BTN_SEND), FILED),
]

# The same dossier, with the result sent home by post (the office path test follows it to the
# postman's door).
FILING_BY_POST = [
    *FILING[: FILING.index(Step(Press(ftexts.BTN_SEND), FILED))],
    Step(Press(ftexts.BTN_TO_POST), ftexts.POSTAL_ADDRESS),
    Step(Type("số 5 đường Trần Phú, xã Thái Tân, Hải Phòng"), ftexts.POSTAL_PHONE),
    # The review again, now with the post (a text the first review did not show).
    Step(
        Press(ftexts.btn_same_phone("0912345678")),
        f"· {ftexts.REVIEW_BY_POST}",
    ),
    Step(Press(ftexts.BTN_SEND), FILED),
]

# What the dossier must hold, whatever the channel: names capitalised, the date in ISO form,
# the number of copies as a number.
FILED_FIELDS: dict[str, Any] = {
    "requester_relation": RELATION,
    "requester_name": "Nguyễn Văn An",
    "requester_id_number": "031075001234",
    "document": "Giấy khai sinh",
    "person_name": "Trần Thị Bình",
    "person_birth_date": "2020-03-15",
    "registration_place": "UBND xã Thái Tân, năm 2020",
    "copies": 2,
    "phone": "0912345678",
}
FILER: dict[str, Any] = {
    "for_self": False,
    "relation": RELATION,
    "name": "Nguyễn Văn An",
    "phone": "0912345678",
}
PHOTO_SLOT = "authorization"

# A question asked in the middle of the form is answered, the form goes on, then the citizen
# cancels it.
DETOUR_AND_CANCEL = [
    *_INTRO,
    Step(Type("lệ phí bao nhiêu tiền?"), ftexts.CONTINUE),
    Step(Type("nguyễn văn an"), "Câu 3/9: Số căn cước"),
    Step(Press(ftexts.BTN_CANCEL), ftexts.CONFIRM_CANCEL),
    Step(Press(ftexts.BTN_CANCEL_YES), ftexts.CANCELLED),
]

# The example under the question is "Ví dụ: 2"; an old man types exactly that.
BARE_NUMBER = [
    *_UP_TO_COPIES,
    Step(Type("2"), "Câu 9/9: Số điện thoại"),
]


# --- The photo -------------------------------------------------------------------------------


def document_photo(width: int = 1200, height: int = 900, seed: int = 0) -> bytes:
    """A sharp, well-lit photo of a typed page: passes storage.images.inspect_upload."""
    rnd = random.Random(7 + seed)
    image = Image.new("RGB", (width, height), (246, 244, 238))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=22)
    draw.rectangle((20, 20, width - 20, height - 20), outline=(25, 25, 25), width=4)
    for y in range(60, height - 60, 34):
        words = " ".join(
            "".join(rnd.choice("abcdeghiklmnopqrstuvxy") for _ in range(rnd.randint(2, 8)))
            for _ in range(11)
        )
        draw.text((60, y), words, fill=(20, 20, 20), font=font)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


# --- A birth registration, as a parent does it (issue #11) -------------------------------------

BIRTH_CODE = "1.001193"
BIRTH_QUESTION = "lam giay khai sinh cho con can gi"
BIRTH_TURNS = 15  # the target: from the first question to the receipt


def _days_ago(days: int) -> str:
    return f"{date.today() - timedelta(days=days):%d/%m/%Y}"


CHILD_BORN = _days_ago(20)  # registered on time: within 60 days


def birth_registration(child_born: str = CHILD_BORN) -> list[Step]:
    """The mother files for her newborn, parents married, with two photos: every choice a
    button, a line for each person. The first step opens the chat the channel's way (it is not
    a turn of the parent's: the count runs from the question)."""
    return [
        Step(Start(), "Bạn cần giúp gì ạ?"),
        Step(Type(BIRTH_QUESTION), "Đăng ký khai sinh\nGiấy tờ cần có:"),
        Step(Press(BTN_FILE), "Bạn là gì của cháu ạ?"),
        Step(Press("Mẹ"), "Họ tên, ngày sinh và số căn cước (12 số) của bạn"),
        Step(Type("Trần Thị Hoa, 20/05/1998, 031198001234"), "Mẹ cháu là bạn"),
        Step(Type(f"Nguyễn Văn An, {child_born}, bé trai"), "quốc tịch nước nào"),
        Step(Press("Kinh, Việt Nam"), "Cháu sinh ở đâu ạ?"),
        Step(Press("Trạm y tế xã Thái Tân, thành phố Hải Phòng"), "Quê quán của cháu"),
        Step(Press("Xã Thái Tân, thành phố Hải Phòng"), "của cha cháu"),
        Step(Type("Nguyễn Văn Bình, 10/02/1995, 031095004321"), "đăng ký kết hôn chưa"),
        Step(Type("Số 15, quyển 01/2020, ngày 12/06/2020, UBND xã Thái Tân"), "mấy bản sao"),
        Step(Press("1 bản"), "Số điện thoại"),
        Step(Type("0912345678"), "Ảnh 1/2: Bạn chụp Giấy chứng sinh"),
        Step(SendPhoto(), "Ảnh 2/2: Bạn chụp Giấy chứng nhận kết hôn"),
        Step(SendPhoto(1), ftexts.review_title("Đăng ký khai sinh")),
        Step(Press(ftexts.BTN_SEND), FILED),
    ]


BIRTH_FIELDS: dict[str, Any] = {
    "requester_relation": "Mẹ",
    "requester_name": "Trần Thị Hoa",
    "requester_birth_date": "1998-05-20",
    "requester_id_number": "031198001234",
    "child_name": "Nguyễn Văn An",
    "child_sex": "Nam",
    "child_ethnicity": "Kinh",
    "child_nationality": "Việt Nam",
    "child_birth_place": "Trạm y tế xã Thái Tân, thành phố Hải Phòng",
    "child_hometown": "Xã Thái Tân, thành phố Hải Phòng",
    "mother_name": "Trần Thị Hoa",
    "mother_birth_date": "1998-05-20",
    "mother_id_number": "031198001234",
    "father_name": "Nguyễn Văn Bình",
    "father_birth_date": "1995-02-10",
    "father_id_number": "031095004321",
    "marriage_cert_number": "15",
    "marriage_cert_book": "01/2020",
    "marriage_cert_date": "2020-06-12",
    "marriage_cert_place": "UBND xã Thái Tân",
    "copies": 1,
    "phone": "0912345678",
}
