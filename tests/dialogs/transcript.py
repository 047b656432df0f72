"""Conversations as transcripts: feed lines through the dialog and look at what came back.

The dialog is :data:`DIALOG`, built by ``bot.dialog.build_dialog`` exactly as the app builds it.

Every turn goes through ``json.dumps``/``json.loads`` like a real restart would, and every
reply is checked against the channel limits (4,096 characters, 64-byte payloads).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.dialog import build_dialog
from dialogs import officer
from dialogs.context import CommuneFacts, Context
from dialogs.model import Attachment, Button, ConversationKey, Effect, Inbound, Reply
from knowledge.catalogue import Catalogue
from knowledge.model import (
    Channel,
    ChannelInfo,
    Fee,
    FilingForm,
    FormField,
    LegalRef,
    OtherProcedure,
    Paper,
    Procedure,
)
from knowledge.search import SearchHit

DIALOG = build_dialog()
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

THAI_TAN = CommuneFacts(
    code="10642",
    name="Xã Thái Tân",
    province="Thành phố Hải Phòng",
    address="Thôn Mạc Xá, xã Thái Tân",
    office_hours="Sáng 7:30–11:30, chiều 13:30–17:00, thứ Hai đến thứ Sáu",
    hotline="0220 3 755 123",
)

BIRTH = Procedure(
    code="1.001193",
    name="Đăng ký khai sinh",
    field="Hộ tịch",
    curated=True,
    summary="Đăng ký khai sinh cho trẻ mới sinh tại UBND xã.",
    papers=(
        Paper(
            name="Tờ khai đăng ký khai sinh",
            copy_kind="bản chính",
            count=1,
            form="Tờ khai đăng ký khai sinh (TT 04/2024/TT-BTP)",
        ),
        Paper(name="Giấy chứng sinh", copy_kind="bản chính", count=1),
        Paper(
            name="Căn cước của người đi khai",
            show_only=True,
            note="hoặc chỉ cần cho biết số định danh cá nhân",
        ),
    ),
    processing_days=0,
    processing_text="Trong ngày; nộp sau 15 giờ thì trả kết quả ngày làm việc tiếp theo.",
    fee=Fee(
        text="Miễn lệ phí nếu đăng ký trong 60 ngày kể từ ngày sinh.",
        set_by_province=True,
        exemptions=("Hộ nghèo", "Người khuyết tật"),
    ),
    results=("Giấy khai sinh",),
    legal_basis=(LegalRef(title="Luật Hộ tịch", code="60/2014/QH13"),),
    channels=(
        ChannelInfo(Channel.ONLINE),
        ChannelInfo(Channel.POST),
        ChannelInfo(Channel.IN_PERSON),
    ),
    full_online=True,
    result_by_post=True,
    form=FilingForm(
        fields=(FormField(name="child_name", kind="name", label="Họ và tên của cháu là gì?"),)
    ),
)
BIRTH_AGAIN = Procedure(
    code="1.004884", name="Đăng ký lại khai sinh", field="Hộ tịch", processing_days=5
)
MARRIAGE = Procedure(
    code="1.000894",
    name="Đăng ký kết hôn",
    field="Hộ tịch",
    curated=True,
    processing_days=1,
    fee=Fee(text="Miễn lệ phí"),
    channels=(ChannelInfo(Channel.IN_PERSON),),
)
COPY = Procedure(code="2.000815", name="Chứng thực bản sao từ bản chính", field="Chứng thực")
# Enough fields and procedures to need more than one page of buttons.
CUSTOMS = tuple(
    Procedure(code=f"1.0000{n:02d}", name=f"Thủ tục hải quan số {n:02d}", field="Hải quan")
    for n in range(1, 13)
)
SMALL_FIELDS = tuple(
    Procedure(code=f"1.0001{n:02d}", name=f"Thủ tục lĩnh vực {n}", field=f"Lĩnh vực {n:02d}")
    for n in range(1, 9)
)
PROCEDURES = (BIRTH, BIRTH_AGAIN, MARRIAGE, COPY, *CUSTOMS, *SMALL_FIELDS)


class FakeSearch:
    """Answers from a fixed table and records what it was asked."""

    def __init__(
        self,
        answers: dict[str, list[SearchHit]] | None = None,
        elsewhere: dict[str, OtherProcedure] | None = None,
    ) -> None:
        self.answers = answers or {}
        self.others = elsewhere or {}
        self.queries: list[str] = []

    def search(self, query: str, limit: int = 3) -> list[SearchHit]:
        self.queries.append(query)
        return self.answers.get(query, [])[:limit]

    def elsewhere(self, query: str) -> OtherProcedure | None:
        return None if self.answers.get(query) else self.others.get(query)


def hit(procedure: Procedure, score: float) -> SearchHit:
    return SearchHit(code=procedure.code, name=procedure.name, score=score)


DEFAULT_ANSWERS = {
    "làm giấy khai sinh": [hit(BIRTH, 0.95), hit(BIRTH_AGAIN, 0.6)],
    "khai sinh": [hit(BIRTH, 0.8), hit(BIRTH_AGAIN, 0.75)],
    "kết hôn": [hit(MARRIAGE, 0.9)],
    "thủ tục đã bỏ": [SearchHit(code="9.999999", name="Không còn", score=0.9)],
}


def make_context(
    procedures: Sequence[Procedure] = PROCEDURES, search: FakeSearch | None = None
) -> Context:
    return Context(
        now=NOW,
        commune=THAI_TAN,
        catalogue=Catalogue(procedures),
        search=search if search is not None else FakeSearch(dict(DEFAULT_ANSWERS)),
    )


KEY = ConversationKey(channel="test", chat_id="c1", user_id="u1")


class Chat:
    """One citizen talking to the engine, errbot-testbot style."""

    def __init__(self, ctx: Context | None = None, state: dict[str, Any] | None = None) -> None:
        self.ctx = ctx or make_context()
        self.state = state
        self.replies: tuple[Reply, ...] = ()
        self.effects: tuple[Effect, ...] = ()
        self._count = 0

    def send(
        self,
        text: str = "",
        payload: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> tuple[Reply, ...]:
        self._count += 1
        inbound = Inbound(
            key=KEY,
            message_id=str(self._count),
            received_at=NOW,
            text=text,
            payload=payload,
            attachments=attachments,
        )
        step = DIALOG.advance(self.state, inbound, self.ctx)
        self.state = json.loads(json.dumps(step.state))  # a restart between every two turns
        assert self.state == step.state
        assert self.state["version"] == 1
        for reply in step.replies:
            assert 0 < len(reply.text) <= 4096
            for button in reply.flat_buttons():
                assert 0 < len(button.payload.encode("utf-8")) <= 64, button
        # Every turn gets an answer: from the dialog, or from the effect it asks for; but a
        # message to a live officer, who reads it in the console, once the first was answered.
        assert step.replies or step.effects or with_officer(step.state)
        self.replies = step.replies
        self.effects = step.effects
        return step.replies

    def say(self, text: str) -> tuple[Reply, ...]:
        return self.send(text=text)

    def press(self, label: str) -> tuple[Reply, ...]:
        """Press the button of the last turn with exactly this label."""
        matches = [b for b in self.buttons_shown() if b.text == label]
        assert matches, f"no button {label!r} in {self.labels}"
        return self.send(text="", payload=matches[0].payload)

    def buttons_shown(self) -> list[Button]:
        return [b for reply in self.replies for b in reply.flat_buttons()]

    @property
    def labels(self) -> list[str]:
        return [b.text for b in self.buttons_shown()]

    @property
    def text(self) -> str:
        return "\n\n".join(reply.text for reply in self.replies)


def with_officer(state: dict[str, Any]) -> bool:
    """Handed over to an officer, who already got the citizen an acknowledgement."""
    return state.get("mode") == officer.MODE and bool(state.get(officer.KEY, {}).get("acked"))
