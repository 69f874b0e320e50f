"""moto's ASL interpreter without the AWS Batch and EC2 mock backends it never uses here.

The interpreter's Batch task integration imports `moto.batch.utils` for one enum (a Batch job's statuses), and
importing any `moto.batch` module first runs the package's `__init__`, which loads the Batch backend and with it EC2's
(every instance type and region): about 110 MiB and 1.4 s in each process that runs a state machine, for a service
no Clawgate state machine calls.

Imported before moto's parser (clawgate.local.stepfunctions does), this module registers `moto.batch` as the real
package with its `__init__` deferred: its submodules still import from moto's own files, and the one name the
`__init__` exports, `batch_backends`, is loaded on first use, so a mock that does reach AWS Batch still gets it."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

PACKAGE = "moto.batch"


def _deferred_exports(name: str) -> Any:
    if name == "batch_backends":
        from moto.batch.models import batch_backends

        return batch_backends
    raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")


def defer_batch_backends() -> None:
    if PACKAGE in sys.modules:  # imported already (its backends are loaded): nothing left to save
        return
    spec = importlib.util.find_spec(PACKAGE)  # imports `moto` itself, not `moto.batch`
    if spec is None:
        return
    package = importlib.util.module_from_spec(spec)  # the package, its __init__ not run
    package.__getattr__ = _deferred_exports  # type: ignore[method-assign]
    sys.modules[PACKAGE] = package
    sys.modules["moto"].batch = package  # type: ignore[attr-defined]  # as the import system binds a submodule


defer_batch_backends()
