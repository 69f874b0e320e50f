"""The local state machines load moto's ASL interpreter without the AWS Batch and EC2 mock backends, and moto.batch
still answers what its package exports when something does ask for it."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import clawgate.local.stepfunctions
print(sorted(m for m in ("moto.batch.models", "moto.ec2") if m in sys.modules))
import moto.batch
from moto.batch import batch_backends
print(type(batch_backends).__name__, "moto.ec2" in sys.modules)
"""


def test_the_asl_interpreter_comes_without_the_batch_backend_which_loads_on_first_use() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "BackendDict True"]
