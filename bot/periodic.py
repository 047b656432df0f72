"""Jobs run every so often by one worker of the deployment, whichever it is.

Several workers may share one database; each runs :func:`run_claimed` for the same job, and
the job's lease (storage/leases.py) lets one of them run each round. A worker that dies stops
renewing, and another takes the job over within one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from storage.leases import LeaseRepository
from storage.outbox import OutboxRepository

log = logging.getLogger(__name__)


async def run_claimed(
    name: str,
    job: Callable[[], Awaitable[Any]],
    stop: asyncio.Event,
    *,
    leases: LeaseRepository,
    owner: str,
    clock: Callable[[], datetime],
    interval: float = 3600.0,
    hold: float | None = None,
) -> None:
    """Until ``stop``: each ``interval`` seconds, run ``job`` if this worker holds the lease.

    The lease is held for ``hold`` seconds (default 1.5 intervals): longer than the interval,
    so the holder's next round renews it before it runs out even when a round ran long; a dead
    holder's job passes to another worker once it has run out."""
    ttl = timedelta(seconds=hold if hold is not None else interval * 1.5)
    while not stop.is_set():
        try:
            if await leases.claim(name, owner, clock(), ttl):
                await job()
        except Exception:  # a bad row or a busy database must not stop the job for good
            log.exception("%s run failed", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def keep_lease(
    name: str,
    *,
    leases: LeaseRepository,
    owner: str,
    clock: Callable[[], datetime],
    hold: float,
    stop: asyncio.Event,
    lost: asyncio.Event,
) -> None:
    """Renew a lease this worker holds until ``stop``, then give it up. Sets ``lost`` (and
    returns) if another worker has it: this one must stop doing what the lease is for."""
    ttl = timedelta(seconds=hold)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=hold / 3)
            if stop.is_set():
                break
            try:
                still = await leases.claim(name, owner, clock(), ttl)
            except Exception:  # a busy database: try again next round, within the hold
                log.exception("renewing lease %s failed", name)
                continue
            if not still:
                log.error("lease %s was taken by another worker; stopping here", name)
                lost.set()
                return
    finally:
        if not lost.is_set():
            with contextlib.suppress(Exception):
                await leases.release(name, owner)


ORPHAN_SWEEP = 10.0  # seconds between looks for rows a dead worker held


async def sweep_orphans(
    outbox: OutboxRepository,
    stop: asyncio.Event,
    clock: Callable[[], datetime],
    interval: float = ORPHAN_SWEEP,
) -> None:
    """Every ``interval``: outbox rows claimed by a worker no longer alive are due again."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        try:
            released = await outbox.release_orphans(clock())
        except Exception:
            log.exception("releasing a dead worker's outbox rows failed")
            continue
        if released:
            log.warning("%d outbox row(s) of a stopped worker taken back", released)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class LeaseHold:
    """A lease as a channel's :class:`handlers.channel.Exclusive`: one worker of the
    deployment does ``work`` (polling a bot) while it holds ``name``; if another worker takes
    the lease over, this one stops."""

    def __init__(
        self,
        name: str,
        *,
        leases: LeaseRepository,
        owner: str,
        clock: Callable[[], datetime],
        hold: float,
    ) -> None:
        self._name = name
        self._leases = leases
        self._owner = owner
        self._clock = clock
        self._hold = hold

    async def claim(self) -> str | None:
        now = self._clock()
        if await self._leases.claim(self._name, self._owner, now, timedelta(seconds=self._hold)):
            return None
        return await self._leases.holder(self._name, now) or "?"

    async def hold(
        self, work: Callable[[asyncio.Event], Awaitable[None]], stop: asyncio.Event
    ) -> None:
        lost = asyncio.Event()
        ending = asyncio.Event()  # set: ``work`` must stop
        renewing = asyncio.create_task(
            keep_lease(
                self._name,
                leases=self._leases,
                owner=self._owner,
                clock=self._clock,
                hold=self._hold,
                stop=stop,
                lost=lost,
            )
        )
        working = asyncio.ensure_future(work(ending))
        losing = asyncio.create_task(lost.wait())
        await asyncio.wait([renewing, losing], return_when=asyncio.FIRST_COMPLETED)
        losing.cancel()
        ending.set()
        await working
        await renewing
