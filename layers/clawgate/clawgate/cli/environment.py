"""Where a command runs. On a laptop: the local database (embedded unless CLAWGATE_DATABASE_URL) with its logins and
registry brought up to date, and the local runtime's state machines in this process. In the admin function
(`clawgate --aws …`): the deployed database, already migrated by the migrator and reached with the app login only,
and the deployed state machines through `ports.workflows()`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from clawgate.core.ports import WorkflowRunner


def deployed() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def database_url() -> None:
    """A database to talk to: nothing to start in AWS."""
    if deployed():
        return
    from clawgate.local.postgres import ensure_database_url

    ensure_database_url()


def database() -> None:
    """The database and its platform schema, ready: locally created or migrated here, in AWS by the migrator."""
    if deployed():
        return
    from clawgate.db.migrate import ensure_platform

    database_url()
    ensure_platform()


@contextlib.contextmanager
def state_machines() -> Iterator[WorkflowRunner]:
    if deployed():
        from clawgate.core import ports

        yield ports.workflows()
        return
    from clawgate.local.runtime import LocalRuntime

    runtime = LocalRuntime()
    try:
        yield runtime.state_machines
    finally:
        runtime.close()
