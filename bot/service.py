"""The conversation service: lock → load state → Dialog.advance → save → run effects → replies.

The dialog core is pure; everything that touches the database, the clock or other systems
happens here.

Several workers may serve one database. The lock is this process's only; what makes a
conversation's turns take effect one at a time whichever worker gets them is the save, which
is compare-and-set on the revision that was loaded (storage.conversations). A turn whose save
lost to another worker's has had no effect yet (effects run only after a winning save), so it
runs again from a fresh load, a few times at most, and then the citizen is asked to try later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.flood import Flood, FloodGate
from bot.locks import KeyedLocks
from bot.transcript import officer_thread, turn_thread
from dialogs.context import Context
from dialogs.engine import Dialog
from dialogs.filing import mark_reminded, reminder_replies
from dialogs.model import (
    ConversationKey,
    Effect,
    HandOff,
    Inbound,
    Notice,
    OfficerEvent,
    Reply,
    Step,
)
from dialogs.texts import channels as channel_texts
from storage.conversations import NEW, Saved
from storage.handoffs import Thread

log = logging.getLogger(__name__)

MAX_FOLLOWUPS = 3  # an effect's result goes back to the dialog; never let that loop
# Turns in flight at once. Loads and saves of concurrent turns share round trips
# (storage.batching), so more turns in flight make fuller batches; beyond this a burst waits
# here rather than in the database pool, where waiting turns would time out.
MAX_CONCURRENT_TURNS = 256
# Loads and saves of one conversation's step when other workers keep saving it in between.
# Each lost race means another worker's turn of the same conversation went through, so a
# citizen would need several messages landing at once on several workers to run out.
MAX_ATTEMPTS = 5


class Contended(Exception):
    """Every attempt at a step lost the race to another worker's save of the conversation."""


class StoredState(Protocol):
    @property
    def state(self) -> dict[str, Any]: ...

    @property
    def commune_code(self) -> str: ...

    @property
    def revision(self) -> int: ...


class ConversationStore(Protocol):
    async def load(self, key: ConversationKey) -> StoredState | None: ...

    async def save(
        self,
        key: ConversationKey,
        state: dict[str, Any],
        commune_code: str,
        now: datetime,
        *,
        revision: int,
        inbound: bool = True,
        seen_message: str | None = None,
        thread: Thread | None = None,
    ) -> Saved: ...


@dataclass(frozen=True, slots=True)
class EffectOutcome:
    """What carrying out an effect produced: replies, and maybe an Inbound for the dialog."""

    replies: tuple[Reply, ...] = ()
    followup: Inbound | None = None


class EffectRunner(Protocol):
    async def __call__(self, inbound: Inbound, effect: Effect) -> EffectOutcome: ...


@dataclass(frozen=True, slots=True)
class TurnResult:
    replies: tuple[Reply, ...]
    duplicate: bool = False


class ConversationService:
    def __init__(
        self,
        dialog: Dialog,
        store: ConversationStore,
        context_for: Callable[[str, datetime], Context],
        default_commune: str,
        run_effect: EffectRunner | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        flood: Flood | None = None,
    ) -> None:
        self._dialog = dialog
        # Not "flood or ...": an empty gate has len() 0, which is false.
        self._flood: Flood = flood if flood is not None else FloodGate()
        self._store = store
        self._context_for = context_for
        self._default_commune = default_commune
        self._run_effect = run_effect
        self._clock = clock
        self._locks = KeyedLocks()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_TURNS)

    async def handle(self, inbound: Inbound) -> TurnResult:
        """Process one inbound message; a message id handled before yields no replies.

        The new state and the message id are saved in one transaction, so a crash at any
        point either leaves the message unhandled (the channel redelivers it) or handled once.
        """
        key = inbound.key
        verdict = await self._flood.verdict(key.as_str(), self._clock())
        if verdict != "ok":
            log.warning(
                "flood limit on %s: message %s not processed", key.channel, inbound.message_id
            )
            slow_down = (Reply(channel_texts.SLOW_DOWN),) if verdict == "warn" else ()
            return TurnResult(replies=slow_down)
        async with self._locks.hold(key.as_str()), self._slots:
            # A redelivered message is caught by the save, which records the message id with
            # the new state: the pure dialog step before it costs nothing worth a round trip.
            try:
                replies = await self._turn(inbound, seen_message=inbound.message_id, depth=0)
            except Contended:
                # Other workers kept saving this conversation: nothing of this turn was saved
                # or done, and the citizen is asked to send it again.
                log.warning(
                    "turn on %s lost every race; the citizen is asked to try again", key.channel
                )
                return TurnResult(replies=(Reply(channel_texts.TRY_LATER),))
            except Exception:
                # A database that refuses writes, a bug: nothing was saved, and the citizen is
                # told to send it again rather than left with a dropped connection.
                log.exception("turn on %s failed; the citizen is asked to try again", key.channel)
                return TurnResult(replies=(Reply(channel_texts.TRY_LATER),))
            if replies is None:
                log.info("duplicate message on %s dropped", key.channel)
                return TurnResult(replies=(), duplicate=True)
            return TurnResult(replies=tuple(replies))

    async def notify(self, key: ConversationKey, notice: Notice) -> tuple[Reply, ...]:
        """An office event for this conversation: under the same lock and in the same atomic
        save as a citizen's turn, so neither can overwrite the other.

        Idempotent per event: the event id is recorded with the new state, and a notice handled
        before (a notifier that crashed before it could mark the row done) changes nothing and
        gives the same words again, for the notifier to send."""
        async with self._locks.hold(key.as_str()), self._slots:
            # A notice handled before (seen_message) gives the same words again. Losing every
            # race raises Contended: the notifier keeps the event and delivers it later.
            step, _ = await self._saved_step(
                key,
                lambda state, ctx: self._dialog.on_notice(state, notice, ctx, handed_over=True),
                inbound=False,
                seen_message=f"notice:{notice.event_id}",
                thread_of=lambda step, _: turn_thread(None, step, None),
            )
            return step.replies

    async def officer_event(self, key: ConversationKey, event: OfficerEvent) -> tuple[Reply, ...]:
        """An officer answered or closed a handed-over conversation (dialogs.officer): like
        :meth:`notify`, under the conversation's lock, in one compare-and-set save, and
        idempotent per event (the same words again for an event handled before)."""
        async with self._locks.hold(key.as_str()), self._slots:
            step, _ = await self._saved_step(
                key,
                lambda state, ctx: self._dialog.on_officer(state, event, ctx, handed_over=True),
                inbound=False,
                seen_message=f"officer:{event.event_id}",
                thread_of=lambda step, _: officer_thread(event, step),
            )
            return step.replies

    async def remind(
        self,
        key: ConversationKey,
        send: Callable[[ConversationKey, Sequence[Reply]], Awaitable[bool]],
        now: datetime,
    ) -> bool:
        """The one draft reminder, if the dialog says one is due: under the conversation's
        lock, so a turn taken meanwhile is neither lost nor reminded about. True when sent.

        The reminder is claimed (saved as sent, compare-and-set) before it goes out, so of two
        workers' reminder jobs only one sends it; if the channel cannot reach the citizen now,
        the claim is taken back unless the conversation moved on meanwhile."""
        async with self._locks.hold(key.as_str()), self._slots:
            for _ in range(MAX_ATTEMPTS):
                stored = await self._store.load(key)
                if stored is None:
                    return False
                ctx = self._context_for(stored.commune_code, now)
                replies = reminder_replies(stored.state, ctx)
                if not replies:
                    return False  # nothing due
                claimed = await self._store.save(
                    key,
                    mark_reminded(stored.state),
                    stored.commune_code,
                    now,
                    revision=stored.revision,
                    inbound=False,
                )
                if claimed is Saved.STALE:
                    continue  # the citizen wrote, or another worker reminded: look again
                if await send(key, replies):
                    return True
                # The channel cannot reach them now: next run again.
                await self._store.save(
                    key,
                    stored.state,
                    stored.commune_code,
                    now,
                    revision=stored.revision + 1,
                    inbound=False,
                )
                return False
            return False

    async def replies(self, inbound: Inbound) -> Sequence[Reply]:
        """Channel-facing shorthand: just the replies."""
        return (await self.handle(inbound)).replies

    async def _step(
        self, inbound: Inbound, *, seen_message: str | None, followup: bool
    ) -> Step | None:
        """Load, advance and save one step of the dialog; None when the message was handled
        before (by this worker or another)."""
        said = None if followup else inbound  # a follow-up repeats what the citizen sent
        step, saved = await self._saved_step(
            inbound.key,
            lambda state, ctx: self._dialog.advance(state, inbound, ctx, handed_over=True),
            inbound=True,
            seen_message=seen_message,
            thread_of=lambda step, shown: turn_thread(said, step, shown),
        )
        return None if saved is Saved.DUPLICATE else step

    async def _saved_step(
        self,
        key: ConversationKey,
        make: Callable[[dict[str, Any] | None, Context], Step],
        *,
        inbound: bool,
        seen_message: str | None,
        thread_of: Callable[[Step, Sequence[object] | None], Thread],
    ) -> tuple[Step, Saved]:
        """Load the conversation, compute its next step with ``make`` and save it compare-and-
        set, with its lines of the transcript and any hand-over (``thread_of``). A save that
        lost to another worker wrote nothing: the step is computed again from what that
        worker saved, up to MAX_ATTEMPTS times, then Contended is raised."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            now = self._clock()
            stored = await self._store.load(key)
            commune = stored.commune_code if stored else self._default_commune
            # The buttons on screen before the step, to name a pressed one in the transcript.
            shown = stored.state.get("buttons") if stored else None
            # The loaded state is this step's own (read from the database just now).
            step = make(stored.state if stored else None, self._context_for(commune, now))
            saved = await self._store.save(
                key,
                step.state,
                commune,
                now,
                revision=stored.revision if stored else NEW,
                inbound=inbound,
                seen_message=seen_message,
                thread=thread_of(step, shown if isinstance(shown, list) else None),
            )
            if saved is not Saved.STALE:
                return step, saved
            log.info(
                "a step on %s lost a race to another worker (attempt %d)", key.channel, attempt
            )
        raise Contended(f"a step on {key.channel} lost {MAX_ATTEMPTS} races")

    async def _turn(
        self, inbound: Inbound, *, seen_message: str | None, depth: int
    ) -> list[Reply] | None:
        step = await self._step(inbound, seen_message=seen_message, followup=depth > 0)
        if step is None:
            return None
        # Only now, with the step saved, do its effects run: a step that lost a race ran none.
        replies = list(step.replies)
        for effect in step.effects:
            if isinstance(effect, HandOff):
                continue  # written with the step's save (storage.handoffs)
            if self._run_effect is None:
                log.warning("no effect runner for %s", type(effect).__name__)
                continue
            outcome = await self._run_effect(inbound, effect)
            replies.extend(outcome.replies)
            if outcome.followup is not None and depth < MAX_FOLLOWUPS:
                more = await self._turn(outcome.followup, seen_message=None, depth=depth + 1)
                replies.extend(more or ())
        return replies
