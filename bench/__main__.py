"""`make bench`: every benchmark in turn; each prints its own figures."""

from __future__ import annotations

import importlib
import os
import sys

BENCHMARKS = [
    "bench.runtime",  # first: the peer-comparable table
    "bench.imports",
    "bench.webhooks",
    "bench.workplace",
    "bench.turns",
    "bench.attribution",
    "bench.synth",
    "bench.control_plane",
    "bench.ads",
    "bench.media",
    "bench.inbox_day",
]


def main() -> None:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # EMF lines would interleave with the figures
    only = sys.argv[1:]
    for name in BENCHMARKS:
        if only and name.split(".")[-1] not in only:
            continue
        importlib.import_module(name).main()
        print()


if __name__ == "__main__":
    main()
