"""Run every benchmark module of this package and print what each reports.

A benchmark is any module ``bench/<name>.py`` with a ``run() -> list[str]`` function returning
the lines to print (a small table). ``python -m bench search`` runs only the named ones.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench._machine import load_average


def _benchmarks() -> dict[str, Callable[[], list[str]]]:
    found: dict[str, Callable[[], list[str]]] = {}
    folder = str(Path(__file__).resolve().parent)
    for module_info in sorted(pkgutil.iter_modules([folder]), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{module_info.name}")
        run = getattr(module, "run", None)
        if callable(run):
            found[module_info.name] = run
    return found


def main(argv: list[str]) -> int:
    benchmarks = _benchmarks()
    wanted = argv or list(benchmarks)
    unknown = [name for name in wanted if name not in benchmarks]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(benchmarks)}")
        return 2
    for name in wanted:
        started = time.perf_counter()
        print(f"== {name} ==")
        for line in benchmarks[name]():
            print(line)
        took = time.perf_counter() - started
        print(f"({name}: {took:.1f} s; load average at the end {load_average()})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
