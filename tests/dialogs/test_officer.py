""" "Gặp cán bộ" in the pure dialog: handed over from anywhere, silent while an officer has it,
back when the officer closes, when it goes idle or when the citizen asks, the form kept."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dialogs import officer
from dialogs.model import HandOff, Inbound, OfficerEvent, Reply, Step
from dialogs.texts import officer as texts
from tests.dialogs.transcript import DIALOG, KEY, NOW, make_context

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


class Talk:
    """A citizen and the dialog; silent turns allowed (handed over)."""

    def __init__(self, closed_until: datetime | None = None) -> None:
        self.ctx = dataclasses.replace(make_context(), officers_from=lambda _now: closed_until)
        self.state: dict[str, Any] | None = None
        self.step = Step(state={})
        self._n = 0

    def _keep(self, step: Step) -> tuple[Reply, ...]:
        self.state = json.loads(json.dumps(step.state))
        self.step = step
        return step.replies

    def send(self, text: str = "", payload: str | None = None, at: datetime = NOW) -> str:
        self._n += 1
        self.ctx = dataclasses.replace(self.ctx, now=at)
        inbound = Inbound(
            key=KEY, message_id=str(self._n), received_at=at, text=text, payload=payload
        )
        self._keep(DIALOG.advance(self.state, inbound, self.ctx))
        return self.text

    def press(self, label: str, at: datetime = NOW) -> str:
        found = [b for r in self.step.replies for b in r.flat_buttons() if b.text == label]
        assert found, f"no button {label!r}"
        return self.send(payload=found[0].payload, at=at)

    def event(self, event: OfficerEvent, at: datetime = NOW) -> str:
        self.ctx = dataclasses.replace(self.ctx, now=at)
        self._keep(DIALOG.on_officer(self.state, event, self.ctx))
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.step.replies)

    @property
    def labels(self) -> list[str]:
        return [b.text for r in self.step.replies for b in r.flat_buttons()]

    @property
    def mode(self) -> str:
        assert self.state is not None
        return str(self.state["mode"])


def test_the_button_hands_over_and_the_assistant_is_silent_after_one_acknowledgement() -> None:
    talk = Talk()
    talk.send("/start")
    talk.press("Gặp cán bộ")
    assert talk.mode == officer.MODE
    assert talk.step.effects == (HandOff("open"),)
    assert "Đã chuyển cuộc trò chuyện tới cán bộ" in talk.text
    assert talk.labels == [texts.BTN_BACK]
    assert talk.send("làm giấy khai sinh cần gì") == texts.RELAYED
    # Not answered by the assistant: no card, no search, no effects.
    assert talk.send("kết hôn") == ""
    assert talk.step.effects == ()
    # A dossier code, a menu button from an old message: still the officer's.
    assert talk.send("000.00.31.H26-260302-0001") == ""
    assert talk.send(payload="browse") == ""
    assert talk.mode == officer.MODE


def test_typed_words_hand_over_from_the_middle_of_a_form_and_the_form_comes_back() -> None:
    talk = Talk()
    talk.send("làm giấy khai sinh")
    talk.press("Nộp hồ sơ")
    assert talk.mode == "filing"
    talk.send("cho tôi gặp cán bộ")
    assert talk.mode == officer.MODE
    assert talk.step.effects == (HandOff("open"),)
    talk.send("tôi chưa có giấy chứng sinh thì sao")
    talk.press(texts.BTN_BACK)
    assert talk.step.effects == (HandOff("close"),)
    assert talk.mode == "filing"
    assert texts.BACK_BY_CITIZEN in talk.text
    assert "Đăng ký khai sinh" in talk.text and "Tiếp tục khai" in talk.labels
    talk.press("Tiếp tục khai")
    assert talk.mode == "filing"
    assert "?" in talk.text  # the form's question again


def test_words_without_diacritics_and_other_phrasings_ask_for_an_officer() -> None:
    for said in ("gap can bo", "Nói chuyện với cán bộ", "tôi muốn gặp cán bộ ạ", "Gặp cán bộ"):
        talk = Talk()
        talk.send(said)
        assert talk.mode == officer.MODE, said
    assert not officer.asks_for_officer("cán bộ tư pháp giải quyết khai sinh trong mấy ngày")


def test_an_officers_answer_reaches_the_citizen_and_closing_gives_the_assistant_back() -> None:
    talk = Talk()
    talk.send("/start")
    talk.press("Gặp cán bộ")
    said = talk.event(OfficerEvent("answer:1", "answer", text="Chào bác, bác cần gì ạ?", by="lan"))
    assert "Chào bác, bác cần gì ạ?" in said and said.startswith(texts.OFFICER_SAYS)
    assert talk.mode == officer.MODE
    talk.event(OfficerEvent("close:1", "close", by="lan"))
    assert texts.BACK_BY_OFFICER in talk.text
    assert talk.mode == "qa"
    # The assistant answers again.
    assert "Đăng ký kết hôn" in talk.send("kết hôn")


def test_a_silent_hand_over_goes_back_to_the_assistant_after_the_idle_time() -> None:
    talk = Talk()
    talk.send("/start")
    talk.press("Gặp cán bộ")
    talk.send("alo", at=NOW + timedelta(minutes=5))
    talk.send("kết hôn", at=NOW + timedelta(minutes=50))
    assert texts.BACK_IDLE in talk.text
    assert talk.step.effects == (HandOff("close"),)
    assert talk.mode == "qa"
    # The idle job's close, arriving after, says nothing more.
    assert talk.event(OfficerEvent("close:1", "close", by="idle")) == ""


def test_out_of_hours_the_citizen_is_told_when_and_leaves_one_message() -> None:
    monday = datetime(2026, 12, 7, 7, 30, tzinfo=HANOI)
    talk = Talk(closed_until=monday)
    talk.send("/start")
    talk.press("Gặp cán bộ")
    assert "Cán bộ sẽ trả lời từ 7 giờ 30 sáng thứ Hai, 07/12" in talk.text
    assert talk.mode == officer.NOTE
    assert talk.step.effects == ()
    talk.send("Cho tôi hỏi lịch làm căn cước cho cháu")
    assert talk.step.effects == (HandOff("wait"),)
    assert "Đã ghi lại lời nhắn" in talk.text and "7 giờ 30 sáng thứ Hai, 07/12" in talk.text
    assert talk.mode == "qa"
    # Monday: the officer answers the message left, and the conversation is theirs.
    said = talk.event(OfficerEvent("answer:9", "answer", text="Bác mang căn cước ạ.", reopen=True))
    assert "Bác mang căn cước ạ." in said
    assert talk.mode == officer.MODE
    assert talk.send("cảm ơn cán bộ") == ""  # acknowledged already: the answer came


def test_an_answer_after_the_citizen_left_is_shown_without_taking_the_conversation() -> None:
    talk = Talk()
    talk.send("/start")
    talk.press("Gặp cán bộ")
    talk.press(texts.BTN_BACK)
    said = talk.event(OfficerEvent("answer:2", "answer", text="Xin lỗi bác, tôi trả lời muộn."))
    assert "trả lời muộn" in said
    assert talk.mode == "qa"


def test_the_next_opening_is_said_in_vietnamese() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=HANOI)
    assert texts.opening(datetime(2026, 12, 3, 13, 30, tzinfo=HANOI), now) == (
        "1 giờ 30 chiều hôm nay, 03/12"
    )
    assert (
        texts.opening(datetime(2026, 12, 4, 8, 0, tzinfo=HANOI), now) == "8 giờ sáng thứ Sáu, 04/12"
    )
