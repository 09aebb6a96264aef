"""Run the benchmarks: `python -m bench` (all) or `python -m bench kit ...`."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = [f"bench_{a.removeprefix('bench_')}" for a in argv] or names
    unknown = [w for w in wanted if w not in names]
    if unknown:
        print(
            f"unknown benchmark(s) {unknown}; known: {[n.removeprefix('bench_') for n in names]}",
            file=sys.stderr,
        )
        return 2
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        print(
            f"== {name.removeprefix('bench_')}: {module.__doc__.strip().splitlines()[0] if module.__doc__ else ''}"
        )
        module.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
