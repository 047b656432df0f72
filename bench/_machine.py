"""What the benchmarks say about the machine they ran on: other work skews every figure."""

from __future__ import annotations

import os


def load_average() -> str:
    """The 1-minute load average, flagged BUSY when it is above the number of CPUs: other work
    then competes with the benchmark for them, and its figures are low."""
    one = os.getloadavg()[0]
    busy = " BUSY" if one > (os.cpu_count() or 1) else ""
    return f"{one:.1f}{busy}"
