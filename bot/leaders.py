"""A leader's chat: ``/thongke`` and ``/lienket`` (dialogs/leaders.py) carried out.

The chat's own key decides: a chat tied to an active leader account (storage/leaders.py)
gets the figures of that account's commune (``*``: the province) with the ratio chart; any
other chat a polite refusal. Linking a chat is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from backoffice.accounts import PROVINCE
from backoffice.dashboard import Dashboard, ratio_png, scope_label
from bot.service import EffectOutcome, EffectRunner
from dialogs import leaders as screens
from dialogs.model import Effect, Inbound
from storage.leaders import LeaderChatRepository

log = logging.getLogger(__name__)


class LeaderDesk:
    def __init__(
        self,
        chats: LeaderChatRepository,
        dashboard: Dashboard,
        *,
        commune_names: Mapping[str, str],
        clock: Callable[[], datetime],
    ) -> None:
        self._chats = chats
        self._dashboard = dashboard
        self._names = commune_names
        self._clock = clock

    async def summary(self, inbound: Inbound) -> EffectOutcome:
        leader = await self._chats.leader_of(inbound.key)
        if leader is None:
            return EffectOutcome(replies=(screens.refusal_screen(),))
        communes = None if leader.commune_code == PROVINCE else (leader.commune_code,)
        try:
            figures = await self._dashboard.figures(communes)
            chart = await self._dashboard.chart(ratio_png, communes, width=6.0, height=3.0)
        except Exception:  # the figures are a convenience: never a crashed conversation
            log.exception("leaders: the summary failed")
            return EffectOutcome(replies=(screens.failed_screen(),))
        current = figures.current
        c = current.counts
        view = screens.SummaryView(
            scope=scope_label(communes, self._names),
            quarter=current.quarter.label,
            received=c.received,
            citizen=c.citizen,
            volunteer=c.volunteer,
            counter=c.counter,
            online_ratio=c.online_ratio,
            target=figures.target,
            trend=figures.trend,
            on_time_rate=c.on_time_rate,
            late=c.late,
            average_days=c.average_days,
            post_share=c.post_share,
            chart=chart,
        )
        return EffectOutcome(replies=(screens.summary_screen(view),))

    async def link(self, inbound: Inbound, code: str) -> EffectOutcome:
        account = await self._chats.link(code, inbound.key, self._clock())
        if account is None:
            return EffectOutcome(replies=(screens.link_failed_screen(),))
        return EffectOutcome(replies=(screens.linked_screen(account.name),))


class WithLeaders:
    """The effect runner: the leaders' effects here, every other one to ``rest``."""

    def __init__(self, rest: EffectRunner, desk: LeaderDesk) -> None:
        self._rest = rest
        self._desk = desk

    async def __call__(self, inbound: Inbound, effect: Effect) -> EffectOutcome:
        if isinstance(effect, screens.LeaderSummary):
            return await self._desk.summary(inbound)
        if isinstance(effect, screens.LinkLeaderChat):
            return await self._desk.link(inbound, effect.code)
        return await self._rest(inbound, effect)
