"""Cold import time of every function in functions/: the median over fresh interpreters, and what it pulls in.
Lambda cold starts are dominated by imports, and webhook functions must not import what they do not use."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
HEAVY = ("anthropic", "facebook_business", "psycopg", "boto3", "botocore", "moto", "pydantic")
PROBE = """
import json, sys, time
sys.path.insert(0, {path!r})
before = set(sys.modules)
started = time.perf_counter()
import handler
elapsed = time.perf_counter() - started
new = set(sys.modules) - before
print(json.dumps({{"seconds": elapsed, "modules": len(new), "packages": sorted({{m.split('.')[0] for m in new}})}}))
"""


def measure(function_dir: Path) -> dict[str, object]:
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(path=str(function_dir))],
            check=True,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "1", "AWS_DEFAULT_REGION": "us-east-1"},
        )
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    seconds = statistics.median(s["seconds"] for s in samples)
    last = samples[-1]
    return {"ms": seconds * 1000, "modules": last["modules"], "packages": last["packages"]}


def main() -> None:
    print(f"== cold import per function (median of {RUNS} fresh interpreters) ==")
    print(f"{'function':<24}{'ms':>8}{'modules':>9}  heavy packages imported")
    for function_dir in sorted(p.parent for p in (ROOT / "functions").glob("*/handler.py")):
        result = measure(function_dir)
        packages = result["packages"]
        assert isinstance(packages, list)
        heavy = [p for p in HEAVY if p in packages] or ["-"]
        print(f"{function_dir.name:<24}{result['ms']:>8.1f}{result['modules']:>9}  {', '.join(heavy)}")


if __name__ == "__main__":
    main()
