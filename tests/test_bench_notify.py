"""Smoke test of the notification benchmark, with small numbers: nothing lost or doubled.

The 429 count is the bench's figure to report under a stated load, not a timed assertion: on a
loaded machine arrivals can bunch into a 429 that the channel waits out."""

from __future__ import annotations

import asyncio

from bench.notify import in_process


def test_every_notice_arrives_once_within_the_limits() -> None:
    result = asyncio.run(in_process(notices=60, chats=20, scale=5.0))
    assert (result.delivered, result.lost, result.doubled, result.pending) == (60, 0, 0, 0)
    assert result.too_many <= 2
