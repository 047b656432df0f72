"""Group commit: many concurrent callers, one database round trip.

Every conversation turn loads a state and saves one, and a burst of citizens means many turns
at once. One transaction per turn costs a full round trip to the database each time (with
aiosqlite, a thread hop per statement), so under load the database, not the dialog, sets the
pace. A :class:`Batcher` gathers the requests that arrive while the previous batch is being
written and hands them to its ``flush`` function together: one transaction and a few
multi-row statements for the whole batch. Each caller still waits for its own result, so a
turn's reply never leaves before its state is committed.

A quiet system sees batches of one and pays nothing extra: a request that finds no batch
running starts one at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")

DEFAULT_MAX_BATCH = 256  # bounds a statement's parameters (SQLite allows 32,766)


class Batcher(Generic[Request, Result]):
    """Runs ``flush(requests) -> results`` (same length, same order) over gathered requests.

    Only one flush runs at a time. If ``flush`` raises for a batch of several, each request
    is flushed again on its own, so one bad request fails only its own caller (as it would
    without batching); later batches are not affected.
    """

    def __init__(
        self,
        flush: Callable[[Sequence[Request]], Awaitable[Sequence[Result]]],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._flush = flush
        self._max_batch = max_batch
        self._pending: list[tuple[Request, asyncio.Future[Result]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, request: Request) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                results = await self._flush_checked(batch)
            except asyncio.CancelledError as exc:
                self._fail(batch, exc)
                self._fail_pending(exc)
                raise
            except Exception as exc:
                if len(batch) == 1:
                    self._fail(batch, exc)
                    continue
                try:
                    await self._one_by_one(batch)
                except asyncio.CancelledError as cancelled:
                    self._fail(batch, cancelled)  # those not answered yet
                    self._fail_pending(cancelled)
                    raise
                continue
            self._succeed(batch, results)

    async def _one_by_one(self, batch: list[tuple[Request, asyncio.Future[Result]]]) -> None:
        """Flush each request alone: the one that failed the batch fails only its caller."""
        for one in batch:
            try:
                results = await self._flush_checked([one])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._fail([one], exc)
            else:
                self._succeed([one], results)

    async def _flush_checked(
        self, batch: list[tuple[Request, asyncio.Future[Result]]]
    ) -> Sequence[Result]:
        results = await self._flush([request for request, _ in batch])
        if len(results) != len(batch):
            raise RuntimeError(f"flush gave {len(results)} results for {len(batch)}")
        return results

    @staticmethod
    def _succeed(
        batch: list[tuple[Request, asyncio.Future[Result]]], results: Sequence[Result]
    ) -> None:
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # the caller may have been cancelled meanwhile
                future.set_result(result)

    @staticmethod
    def _fail(batch: list[tuple[Request, asyncio.Future[Result]]], exc: BaseException) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)

    def _fail_pending(self, exc: BaseException) -> None:
        pending, self._pending = self._pending, []
        for _, future in pending:
            if not future.done():
                future.set_exception(exc)
