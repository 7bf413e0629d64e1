"""`make bench`: run every benchmark; each writes its results under bench/results/."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

BENCHMARKS = [
    "hotpath.py",
    "resilience.py",
    "signatures.py",
    "provider_client.py",
    "exchange.py",
    "audit.py",
    "http_guard.py",
]


def main() -> None:
    here = Path(__file__).parent
    sys.path.insert(0, str(here.parent))
    for name in BENCHMARKS:
        print(f"== {name}")
        runpy.run_path(str(here / name), run_name="__main__")


if __name__ == "__main__":
    main()
