"""A page that lost its connection resends its last frame and gets the replies it missed, even
while thousands of other visitors chat: each session keeps its own last replies. Before, one
cache of 2,000 frames for everybody let other sessions' traffic evict a citizen's answer."""

from __future__ import annotations

from handlers.webchat import REPLAY_SESSIONS, ReplayCache


def test_other_sessions_traffic_does_not_evict_a_citizens_pending_answer() -> None:
    cache = ReplayCache()
    answer = [{"type": "reply", "re": "p1-7", "text": "Câu 3/9: Bạn cần bản sao giấy gì ạ?"}]
    cache.put("citizen", "p1-7", answer)
    for visitor in range(REPLAY_SESSIONS - 1):
        for frame in range(20):  # busy visitors, many frames each
            cache.put(f"v{visitor}", f"f{frame}", [{"text": "x"}])
    assert cache.get("citizen", "p1-7") == answer


def test_a_session_keeps_its_last_frames_and_the_oldest_sessions_go_first() -> None:
    cache = ReplayCache(per_session=2, sessions=2)
    cache.put("a", "1", [{"n": 1}])
    cache.put("a", "2", [{"n": 2}])
    cache.put("a", "3", [{"n": 3}])
    assert cache.get("a", "1") == [] and cache.get("a", "3") == [{"n": 3}]
    cache.put("b", "1", [{"n": 1}])
    cache.put("a", "4", [{"n": 4}])  # a is the newest again
    cache.put("c", "1", [{"n": 1}])  # b, the least recent, goes
    assert cache.get("b", "1") == []
    assert cache.get("a", "4") == [{"n": 4}] and cache.get("c", "1") == [{"n": 1}]
