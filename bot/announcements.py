"""Officers' announcements to the citizens who opted in: the chat's side (the effects of
``dialogs.announcements``) and the courier's (:class:`AnnouncementMaker`).

The console writes an announcement and one ``announce:<channel>`` outbox row per subscriber in
one transaction (storage.announcements). A :class:`~bot.notifier.Notifier` on those topics
works them like the office's notices: the same quiet hours (held until the morning, not
dropped), the same per-channel pacers (Telegram's 30 a second and one a second per chat), the
same claims (a row is claimed by one worker; a row marked done is never sent again; a dead
worker's rows come back to the next), retries with backoff and parking. :meth:`prepare` reads
the subscription again when the row's turn comes: a chat that opted out meanwhile is owed
nothing, and the row is marked done unsent.

Logs name announcements and subscriptions by id: never a chat id, a name or a phone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.notifier import Prepared
from bot.service import EffectOutcome
from dialogs import announcements as flow
from dialogs.engine import MENU
from dialogs.model import Button, ConversationKey, Effect, Inbound, Reply
from dialogs.texts import announcements as texts
from dialogs.texts import common as ctexts
from storage.announcements import ANNOUNCEMENT, AnnouncementRepository
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

# The messengers an announcement can reach: the citizen's own chats, not the terminal.
ANNOUNCE_CHANNELS = frozenset({"telegram", "zalo", "web"})
_MENU = ((Button(ctexts.BTN_MENU, MENU),),)


class AnnouncementEffects:
    def __init__(
        self,
        announcements: AnnouncementRepository,
        *,
        commune_names: Mapping[str, str],
        clock: Callable[[], datetime],
        channels: frozenset[str] = ANNOUNCE_CHANNELS,
    ) -> None:
        self._announcements = announcements
        self._names = commune_names
        self._clock = clock
        self._channels = channels

    async def run(self, inbound: Inbound, effect: Effect) -> EffectOutcome | None:
        """The outcome of an announcement effect; None for an effect that is not one."""
        key = inbound.key
        if isinstance(effect, flow.AnnouncementChoice):
            if key.channel not in self._channels:
                status = "closed"
            else:
                found = await self._announcements.of(key)
                status = "none" if found is None else found.status
            return EffectOutcome(followup=_followup(inbound, f"{flow.STATUS}:{status}"))
        if isinstance(effect, flow.OptIn):
            if key.channel not in self._channels or effect.commune_code not in self._names:
                return EffectOutcome(replies=(Reply(texts.NOT_HERE, buttons=_MENU),))
            subscription = await self._announcements.opt_in(key, effect.commune_code, self._clock())
            log.info("subscription %s opted in", subscription.id)
            name = self._names[effect.commune_code]
            return EffectOutcome(replies=(Reply(texts.opted_in(name), buttons=_MENU),))
        if isinstance(effect, flow.OptOut):
            result = await self._announcements.opt_out(key, effect.token or None, self._clock())
            if result == "stale":
                return EffectOutcome(replies=(Reply(ctexts.STALE_CHOICE, buttons=_MENU),))
            text = texts.OPTED_OUT if result == "out" else texts.ALREADY_OUT
            return EffectOutcome(replies=(Reply(text, buttons=_MENU),))
        return None

    async def offer_after_receipt(
        self, inbound: Inbound, commune_code: str, message_id: str
    ) -> Inbound | None:
        """The follow-up that asks a chat, once, whether it wants the announcements (after
        its first receipt); None when it was asked before or cannot receive them."""
        key = inbound.key
        if key.channel not in self._channels or commune_code not in self._names:
            return None
        if not await self._announcements.offer_once(key, commune_code, self._clock()):
            return None
        return Inbound(
            key=key,
            message_id=f"{message_id}:{flow.OFFER}",
            received_at=inbound.received_at,
            payload=flow.OFFER,
        )


class AnnouncementMaker:
    """What the courier sends for one ``announce:<channel>`` row."""

    def __init__(
        self, announcements: AnnouncementRepository, commune_names: Mapping[str, str]
    ) -> None:
        self._announcements = announcements
        self._names = commune_names

    async def prepare(self, item: OutboxItem) -> Prepared | None:
        """The recipient and the message; no replies when the chat opted out meanwhile (the
        row is then done, unsent); None for a row nobody can read (parked for a person)."""
        payload = item.payload
        if payload.get("kind") != ANNOUNCEMENT:
            return None
        try:
            key = ConversationKey(
                str(payload["channel"]), str(payload["chat_id"]), str(payload["user_id"])
            )
            announcement_id = int(payload["announcement_id"])
            subscription_id = int(payload["subscription_id"])
        except (KeyError, TypeError, ValueError):
            return None
        announcement = await self._announcements.get(announcement_id)
        if announcement is None:
            return None
        subscription = await self._announcements.get_subscription(subscription_id)
        if (
            subscription is None
            or not subscription.active
            or subscription.key.channel != key.channel
            or subscription.key.user_id != key.user_id
            or subscription.commune_code != announcement.commune_code
        ):
            log.info(
                "announcement %d not owed to subscription %d any more",
                announcement_id,
                subscription_id,
            )
            return Prepared(key=key, replies=())
        name = self._names.get(announcement.commune_code, announcement.commune_code)
        reply = Reply(
            texts.announcement(name, announcement.text),
            buttons=((flow.stop_button(subscription.token),),),
        )
        # The chat it opted in from now (a Telegram chat id does not change; a web session's
        # may): the subscription's, not the one written when the row was queued.
        return Prepared(key=subscription.key, replies=(reply,))


def _followup(inbound: Inbound, payload: str) -> Inbound:
    return Inbound(
        key=inbound.key,
        message_id=f"{inbound.message_id}:{payload.partition(':')[0]}",
        received_at=inbound.received_at,
        payload=payload,
    )


__all__ = ["ANNOUNCE_CHANNELS", "AnnouncementEffects", "AnnouncementMaker"]
