"""A commune leader's chat: ``/thongke`` answers with the quarter's figures and the chart.

A chat is a leader's only once tied to their console account: the console gives a one-time
code, the leader types ``/lienket CODE`` here, and ``bot/`` checks it
(:class:`LinkLeaderChat`). ``/thongke`` asks ``bot/`` for the figures of the account's commune
(:class:`LeaderSummary`); any other chat gets a polite refusal, which ``bot/`` decides, since
only the database knows who is linked. The screens are built here from plain numbers.

```mermaid
stateDiagram-v2
    [*] --> qa: /thongke -> LeaderSummary; not linked: NOT_A_LEADER; linked: summary + chart
    [*] --> qa: /lienket CODE -> LinkLeaderChat; LINKED or LINK_FAILED
    [*] --> qa: /lienket alone -> HOW_TO_LINK
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dialogs.flow import Flow, Turn
from dialogs.model import Button, Effect, Media, Reply, Step
from dialogs.texts import common as ctexts
from dialogs.texts import leaders as texts

SUMMARY = "thongke"
HOW_TO = "lienket"
_MENU = ((Button(ctexts.BTN_MENU, "menu"),),)
_LINK = re.compile(r"^\s*/lienket\s+([A-Za-z0-9][A-Za-z0-9 -]{5,20})\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LeaderSummary(Effect):
    """The figures of the quarter for the leader this chat is tied to (or a refusal)."""


@dataclass(frozen=True, slots=True)
class LinkLeaderChat(Effect):
    """Tie this chat to the console account that was given ``code``."""

    code: str


@dataclass(frozen=True, slots=True)
class SummaryView:
    """The numbers of :func:`summary_screen`; ratios are 0..1 or None (nothing to divide)."""

    scope: str  # "Xã Thái Tân", "Toàn tỉnh"
    quarter: str  # "Quý 4/2026"
    received: int
    citizen: int
    volunteer: int
    counter: int
    online_ratio: float | None
    target: float
    trend: float | None  # change of the ratio from the quarter before
    on_time_rate: float | None
    late: int
    average_days: float | None
    post_share: float | None
    chart: bytes = field(default=b"", repr=False)


def _percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{100 * ratio:.1f}%".replace(".", ",")


def summary_text(view: SummaryView) -> str:
    target = round(100 * view.target)
    if view.received == 0:
        return f"Thống kê {view.quarter} · {view.scope}\nChưa có hồ sơ nào trong quý này."
    meets = view.online_ratio is not None and view.online_ratio >= view.target
    verdict = f"đạt mục tiêu {target}%" if meets else f"chưa đạt mục tiêu {target}%"
    trend = ""
    if view.trend is not None:
        points = f"{abs(100 * view.trend):.1f}".replace(".", ",")
        trend = (
            f", tăng {points} điểm so với quý trước"
            if view.trend > 0
            else f", giảm {points} điểm so với quý trước"
            if view.trend < 0
            else ", không đổi so với quý trước"
        )
    days = "—" if view.average_days is None else f"{view.average_days:.1f}".replace(".", ",")
    return "\n".join(
        (
            f"Thống kê {view.quarter} · {view.scope}",
            f"• Tiếp nhận {view.received} hồ sơ: {view.citizen} tự nộp trực tuyến, "
            f"{view.volunteer} qua tình nguyện viên, {view.counter} tại quầy.",
            f"• Nộp trực tuyến {_percent(view.online_ratio)}: {verdict}{trend}.",
            f"• Đúng hạn {_percent(view.on_time_rate)} ({view.late} hồ sơ trễ hạn); "
            f"trung bình {days} ngày làm việc.",
            f"• Trả kết quả qua bưu điện: {_percent(view.post_share)}.",
        )
    )


def summary_screen(view: SummaryView) -> Reply:
    images: tuple[Media, ...] = ()
    if view.chart:
        caption = texts.CHART_CAPTION.format(target=round(100 * view.target))
        images = (Media("thong-ke.png", "image/png", view.chart, caption),)
    return Reply(summary_text(view), buttons=_MENU, images=images)


def refusal_screen() -> Reply:
    return Reply(texts.NOT_A_LEADER, buttons=_MENU)


def linked_screen(name: str) -> Reply:
    return Reply(texts.LINKED.format(name=name), buttons=_MENU)


def link_failed_screen() -> Reply:
    return Reply(texts.LINK_FAILED, buttons=_MENU)


def failed_screen() -> Reply:
    return Reply(texts.SUMMARY_FAILED, buttons=_MENU)


def _on_summary(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    return Step(state=turn.state, effects=(LeaderSummary(),))


def _on_how_to(turn: Turn, argument: str) -> Step | None:
    if argument:
        return None
    return Step(state=turn.state, replies=(Reply(texts.HOW_TO_LINK, buttons=_MENU),))


def _intercept(turn: Turn) -> Step | None:
    """Any mode: ``/lienket CODE`` (a command with its argument, which commands cannot take)."""
    if turn.inbound.attachments:
        return None
    found = _LINK.match(turn.inbound.text)
    if found is None:
        return None
    return Step(state=turn.state, effects=(LinkLeaderChat(found.group(1).strip()),))


FLOW = Flow(
    name="leaders",
    verbs={SUMMARY: _on_summary, HOW_TO: _on_how_to},
    commands={"/thongke": SUMMARY, "/lienket": HOW_TO},
    intercepts={"*": _intercept},
)

__all__ = [
    "FLOW",
    "LeaderSummary",
    "LinkLeaderChat",
    "SummaryView",
    "failed_screen",
    "link_failed_screen",
    "linked_screen",
    "refusal_screen",
    "summary_screen",
    "summary_text",
]
