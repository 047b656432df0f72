"""Push: the one door for writing to a citizen first, whatever the channel."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from bot.push import Push
from dialogs.model import ConversationKey, Reply

WEB = ConversationKey(channel="web", chat_id="tag-1", user_id="tag-1")
ZALO = ConversationKey(channel="zalo", chat_id="u-1", user_id="u-1")
HELLO = (Reply("Biên nhận hồ sơ của bác đây ạ."),)


class Inbox:
    """A channel that records what it was asked to deliver and answers ``reachable``."""

    def __init__(self, reachable: bool = True) -> None:
        self.reachable = reachable
        self.got: list[tuple[ConversationKey, tuple[Reply, ...]]] = []

    async def __call__(self, key: ConversationKey, replies: Sequence[Reply]) -> bool:
        self.got.append((key, tuple(replies)))
        return self.reachable


async def test_a_message_goes_to_the_sender_of_its_channel_only() -> None:
    push, web, zalo = Push(), Inbox(), Inbox()
    push.register("web", web)
    push.register("zalo", zalo)
    assert await push.send(WEB, HELLO)
    assert web.got == [(WEB, HELLO)]
    assert zalo.got == []


async def test_a_channel_nobody_registered_cannot_be_written_to() -> None:
    push, web = Push(), Inbox()
    push.register("web", web)
    assert not await push.send(ZALO, HELLO)
    assert web.got == []


async def test_a_sender_that_cannot_deliver_now_says_so() -> None:
    push, closed = Push(), Inbox(reachable=False)
    push.register("web", closed)
    assert not await push.send(WEB, HELLO)
    assert closed.got == [(WEB, HELLO)]


async def test_a_failing_sender_means_try_later_and_names_no_citizen(
    caplog: pytest.LogCaptureFixture,
) -> None:
    push = Push()

    async def broken(key: ConversationKey, replies: Sequence[Reply]) -> bool:
        raise ConnectionResetError(f"lost {key.chat_id} while sending {replies[0].text}")

    push.register("zalo", broken)
    with caplog.at_level(logging.INFO, logger="bot.push"):
        assert not await push.send(ZALO, HELLO)
    assert "ConnectionResetError" in caplog.text
    assert "u-1" not in caplog.text and "Biên nhận" not in caplog.text


async def test_unregister_removes_only_its_own_sender() -> None:
    push, first_page, second_page = Push(), Inbox(), Inbox()
    stop_first = push.register("web", first_page)
    stop_second = push.register("web", second_page)  # replaces the first
    stop_first()  # late: must not take the second one away
    assert push.channels() == ("web",)
    assert await push.send(WEB, HELLO)
    assert (first_page.got, second_page.got) == ([], [(WEB, HELLO)])
    stop_second()
    assert push.channels() == ()
    assert not await push.send(WEB, HELLO)
    stop_second()  # twice is harmless
    assert push.channels() == ()


def test_channels_lists_what_this_process_can_reach_now() -> None:
    push = Push()
    assert push.channels() == ()
    stop_terminal = push.register("terminal", Inbox())
    push.register("telegram", Inbox())
    assert sorted(push.channels()) == ["telegram", "terminal"]
    stop_terminal()
    assert push.channels() == ("telegram",)
