"""The local runtime's processes, seen from outside: the worker processes run at the configured lower CPU priority
(the HTTP server does not), and a stop leaves nothing behind — no worker, and not the embedded PostgreSQL the
runtime started for itself."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import psutil
import yaml

from tests.conftest import tenant_data
from tests.e2e.test_durability import Runtime
from tests.runtime import free_port

SLUG = "layout"


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(tenant_data(SLUG)))
    return {**os.environ, "CLAWGATE_PORT": str(free_port()), "CLAWGATE_DATA_DIR": str(tmp_path / "data"), **extra}


def _workers(runtime: Runtime) -> list[psutil.Process]:
    tree = psutil.Process(runtime.process.pid).children(recursive=True)
    return [p for p in tree if "clawgate.local.workers" in " ".join(p.cmdline())]


def test_worker_processes_run_at_the_configured_niceness_and_the_server_does_not(
    tmp_path: Path, fresh_database: str
) -> None:
    env = _environment(tmp_path, CLAWGATE_DATABASE_URL=fresh_database)
    runtime = Runtime(tmp_path, env, 2, "--offline", "--worker-niceness", "7")
    try:
        own = os.nice(0)
        server = psutil.Process(runtime.process.pid)
        assert server.nice() == own
        workers = _workers(runtime)
        assert len(workers) == 2
        deadline = time.monotonic() + 90  # until each has imported what it runs and started its consumer threads
        while any(w.num_threads() <= 5 for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        for worker in workers:  # Linux keeps a niceness per thread: every thread, the ones that run turns included
            threads = [psutil.Process(t.id) for t in worker.threads()]
            assert len(threads) > 5 and {t.nice() for t in threads} == {min(own + 7, 19)}
    finally:
        runtime.stop()


def test_ctrl_c_leaves_no_worker_and_no_embedded_postgresql_behind(tmp_path: Path) -> None:
    # `clawgate dev` starts its own PostgreSQL under the data directory; run as root, the server runs as a user of
    # its own, which must reach the directory (pytest's temporary directories are private to their owner).
    data_dir = Path(tempfile.mkdtemp(prefix="clawgate-layout-"))
    env = _environment(tmp_path, CLAWGATE_DATA_DIR=str(data_dir))
    env.pop("CLAWGATE_DATABASE_URL", None)
    postmaster_pid = data_dir / "pg" / "postmaster.pid"
    started: list[psutil.Process] = []
    try:
        # A first start of an embedded server waits for a lock that every embedded PostgreSQL on the machine shares.
        runtime = Runtime(tmp_path, env, 2, "--offline", start_timeout=300)
        started = [psutil.Process(runtime.process.pid), *psutil.Process(runtime.process.pid).children(recursive=True)]
        started.append(psutil.Process(int(postmaster_pid.read_text().split()[0])))
        assert len(_workers(runtime)) == 2
        runtime.process.send_signal(signal.SIGINT)  # the main process only, as Ctrl-C of `make dev` reaches it
        assert runtime.process.wait(300) == 0
        _, alive = psutil.wait_procs(started, timeout=30)
        assert alive == []
    finally:
        if not started and postmaster_pid.exists():
            started.append(psutil.Process(int(postmaster_pid.read_text().split()[0])))
        for process in started:
            if process.is_running():
                process.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
