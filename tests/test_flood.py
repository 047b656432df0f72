from datetime import UTC, datetime, timedelta

from bot.flood import FloodGate

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_a_burst_gets_one_warning_then_silence_then_service_again() -> None:
    gate = FloodGate(limit=20, window=timedelta(seconds=10))
    verdicts = [gate.check("zalo:1:1", T0 + timedelta(milliseconds=100 * i)) for i in range(30)]
    assert verdicts[:20] == ["ok"] * 20
    assert verdicts[20] == "warn"
    assert verdicts[21:] == ["drop"] * 9
    assert gate.check("zalo:1:1", T0 + timedelta(seconds=15)) == "ok"  # the burst is over


def test_one_citizen_flooding_does_not_limit_another() -> None:
    gate = FloodGate(limit=3, window=timedelta(seconds=10))
    for i in range(5):
        gate.check("a", T0 + timedelta(seconds=i * 0.1))
    assert gate.check("b", T0) == "ok"


def test_idle_keys_are_forgotten() -> None:
    gate = FloodGate(limit=3, window=timedelta(seconds=10))
    gate.check("a", T0)
    gate.forget_idle(T0 + timedelta(seconds=11))
    assert len(gate) == 0
