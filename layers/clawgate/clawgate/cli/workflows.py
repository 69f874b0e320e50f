"""Where a command runs a workflow: in the admin function (AWS), the deployed state machines through
`ports.workflows()`; on a laptop, the local runtime's, in this process."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from clawgate.core.ports import WorkflowRunner


@contextlib.contextmanager
def state_machines() -> Iterator[WorkflowRunner]:
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        from clawgate.core import ports

        yield ports.workflows()
        return
    from clawgate.local.runtime import LocalRuntime

    runtime = LocalRuntime()
    try:
        yield runtime.state_machines
    finally:
        runtime.close()
