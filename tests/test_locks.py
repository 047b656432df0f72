import asyncio

from bot.locks import KeyedLocks


async def test_turns_of_one_conversation_never_overlap() -> None:
    locks = KeyedLocks()
    active = 0
    seen_max = 0

    async def turn() -> None:
        nonlocal active, seen_max
        async with locks.hold("telegram:1:1"):
            active += 1
            seen_max = max(seen_max, active)
            await asyncio.sleep(0.001)
            active -= 1

    await asyncio.gather(*(turn() for _ in range(20)))
    assert seen_max == 1
    assert len(locks) == 0  # nothing left behind


async def test_different_conversations_run_in_parallel() -> None:
    locks = KeyedLocks()
    inside = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with locks.hold("a"):
            inside.set()
            await release.wait()

    task = asyncio.create_task(first())
    await inside.wait()
    async with locks.hold("b"):  # would deadlock if keys shared a lock
        release.set()
    await task
