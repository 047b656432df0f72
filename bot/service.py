"""The conversation service: lock → load state → dialogs.advance → save → run effects → replies.

The dialog core is pure; everything that touches the database, the clock or other systems
happens here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.locks import KeyedLocks
from dialogs.context import Context
from dialogs.engine import advance
from dialogs.model import ConversationKey, Effect, Inbound, Reply

log = logging.getLogger(__name__)


class StoredState(Protocol):
    @property
    def state(self) -> dict[str, Any]: ...

    @property
    def commune_code(self) -> str: ...


class ConversationStore(Protocol):
    async def load(self, key: ConversationKey) -> StoredState | None: ...

    async def save(
        self, key: ConversationKey, state: dict[str, Any], commune_code: str, now: datetime
    ) -> None: ...

    async def mark_seen(self, channel: str, message_id: str, now: datetime) -> bool: ...


class EffectRunner(Protocol):
    async def __call__(self, key: ConversationKey, effect: Effect) -> Sequence[Reply]: ...


@dataclass(frozen=True, slots=True)
class TurnResult:
    replies: tuple[Reply, ...]
    duplicate: bool = False


class ConversationService:
    def __init__(
        self,
        store: ConversationStore,
        context_for: Callable[[str, datetime], Context],
        default_commune: str,
        run_effect: EffectRunner | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._context_for = context_for
        self._default_commune = default_commune
        self._run_effect = run_effect
        self._clock = clock
        self._locks = KeyedLocks()

    async def handle(self, inbound: Inbound) -> TurnResult:
        """Process one inbound message; a message id seen before yields no replies."""
        key = inbound.key
        async with self._locks.hold(key.as_str()):
            now = self._clock()
            if not await self._store.mark_seen(key.channel, inbound.message_id, now):
                log.info("duplicate message %s on %s dropped", inbound.message_id, key.channel)
                return TurnResult(replies=(), duplicate=True)
            stored = await self._store.load(key)
            commune = stored.commune_code if stored else self._default_commune
            step = advance(
                stored.state if stored else None, inbound, self._context_for(commune, now)
            )
            await self._store.save(key, step.state, commune, now)
            replies = list(step.replies)
            for effect in step.effects:
                if self._run_effect is None:
                    log.warning("no effect runner for %s", type(effect).__name__)
                    continue
                replies.extend(await self._run_effect(key, effect))
            return TurnResult(replies=tuple(replies))

    async def replies(self, inbound: Inbound) -> Sequence[Reply]:
        """Channel-facing shorthand: just the replies."""
        return (await self.handle(inbound)).replies
