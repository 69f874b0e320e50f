"""The figures to set beside a peer gateway's (bench/peer measures OpenClaw the same way), in one table.

`clawgate dev` runs as a user runs it — the HTTP server and its worker processes — against a fake model that answers
at once; everything is measured from outside, over loopback HTTP: sequential agent messages in fresh sessions and in
one session (the run API), four clients for BENCH_SECONDS, the CPU time of the runtime's processes (and, apart, of
PostgreSQL's) per message, their memory (RSS and PSS summed), webhook acknowledgements while a 200-message backlog
drains, and the database round trips of one turn."""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import yaml

from bench.database import bench_database_url

SLUG = "bench_rt"
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "100"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
LONG_TURNS = int(os.environ.get("BENCH_LONG_TURNS", "0"))  # e.g. 10000: RSS sampled along the way
APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "700000000099"
TENANT = {
    "slug": SLUG, "name": "Bench Runtime", "timezone": "UTC", "budget": {"daily_usd": 1_000_000},
    "agents": [{"id": "assistant", "name": "Aliya", "model": "anthropic/claude-haiku-4-5"}],
    "channels": {"whatsapp": [{"phone_number_id": PHONE_NUMBER_ID, "waba_id": "1", "agent": "assistant",
                               "access_token": "secret:bench/wa"}]},
}  # fmt: skip


class Runtime:
    """`clawgate dev --workers N --offline` (Graph answered by its loopback fake) with the bench's model."""

    def __init__(self, tmp: Path, database_url: str, model_url: str) -> None:
        from clawgate.local.background import free_port

        (tmp / "tenant.yaml").write_text(yaml.safe_dump(TENANT))
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {**os.environ, "CLAWGATE_DATABASE_URL": database_url, "CLAWGATE_PORT": self.url.rsplit(":", 1)[1],
               "CLAWGATE_DATA_DIR": str(tmp), "ANTHROPIC_API_KEY": "bench", "ANTHROPIC_BASE_URL": model_url,
               "CLAWGATE_META_APP_SECRET": APP_SECRET, "POWERTOOLS_METRICS_DISABLED": "true"}  # fmt: skip
        command = [sys.executable, "-m", "clawgate.cli", "dev", "--offline", "--workers", str(WORKERS),
                   "--tenant-file", str(tmp / "tenant.yaml")]  # fmt: skip
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ps = psutil.Process(self.process.pid)
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the runtime did not start")
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.ps)

    def memory(self) -> str:
        return tree_memory(self.ps)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


def postgres_cpu_seconds(database_url: str) -> float:
    """CPU of the PostgreSQL server's processes: the postmaster (a backend's parent) and all it runs."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        master = psutil.Process(int(row[0])).parent()
    assert master is not None
    return cpu_seconds([master, *master.children()])


Call = Callable[[httpx.Client, str], None]  # one agent message in a session


def run_api(token: str) -> Call:
    def call(client: httpx.Client, session: str) -> None:
        response = client.post(f"/api/v1/tenants/{SLUG}/agents/assistant/run",
                               json={"message": "hi", "session": session},
                               headers={"authorization": f"Bearer {token}"})  # fmt: skip
        if response.status_code != 200:
            raise RuntimeError(f"the run API answered {response.status_code}: {response.text[:300]}")

    return call


def sequential(url: str, call: Call, fresh: bool, count: int = SEQUENTIAL) -> float:
    """The median of `count` messages one after the other (ms): each in a new session, or all in one."""
    times = []
    with httpx.Client(base_url=url, timeout=120) as client:
        stamp = time.time_ns()
        for i in range(count):
            started = time.perf_counter()
            call(client, f"s{stamp}-{i}" if fresh else f"same-{stamp}")
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def concurrent(url: str, call: Call, clients: int = 4, seconds: float = SECONDS) -> tuple[int, float]:
    """Messages answered by `clients` clients sending one after another for `seconds`, and the time it took."""
    done: list[int] = [0] * clients
    stop = time.monotonic() + seconds

    def client_loop(n: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            while time.monotonic() < stop:
                call(client, f"c{n}-{time.time_ns()}")
                done[n] += 1

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), time.perf_counter() - started


def tree_cpu_seconds(root: psutil.Process) -> float:
    return cpu_seconds([root, *root.children(recursive=True)])


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU of the processes still there: a backend or thread that exits between the listing and the
    reading takes its time with it (PostgreSQL ends a backend when its connection closes)."""
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(process.cpu_times()[:2])
    return total


def tree_memory(root: psutil.Process) -> str:
    """RSS summed over a process tree, and PSS summed: each shared page divided among the processes sharing it."""
    processes = [root, *root.children(recursive=True)]
    rss = sum(p.memory_info().rss for p in processes) / 2**20
    pss = sum(proportional_set_size(p.pid) for p in processes) / 2**20
    return f"{rss:.0f} / {pss:.0f} MiB ({len(processes)} processes)"


def proportional_set_size(pid: int) -> int:
    """Bytes: the process's private pages plus its share of each page it shares (copy-on-write after a fork)."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        kib = next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
    return kib * 1024


def webhook_body(user: str, text: str) -> bytes:
    from clawgate.local.demo import whatsapp_update

    return whatsapp_update(PHONE_NUMBER_ID, user, text, None)


def acks_under_backlog(runtime: Runtime) -> tuple[float, float, float]:
    """200 webhooks make a backlog; then acknowledgements are timed while it drains. Returns p50, p95 (ms) and
    how long the whole backlog took to be answered (s)."""
    from clawgate.core.meta_webhooks import sign
    from clawgate.local.demo import wait_until_idle

    def post(client: httpx.Client, user: str) -> float:
        body = webhook_body(user, "hello")
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, APP_SECRET)}
        started = time.perf_counter()
        assert client.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 200
        return time.perf_counter() - started

    stamp = time.time_ns() % 10**6
    with httpx.Client(base_url=runtime.url, timeout=30) as client:
        started = time.perf_counter()
        for i in range(200):
            post(client, f"77{stamp:06d}{i:04d}")
        acks = []
        for i in range(100):
            acks.append(post(client, f"78{stamp:06d}{i:04d}"))
            time.sleep(0.01)
    wait_until_idle(runtime.url, timeout=600)
    drained = time.perf_counter() - started
    acks.sort()
    return acks[len(acks) // 2] * 1000, acks[int(len(acks) * 0.95)] * 1000, drained


def round_trips_per_turn() -> int:
    """One turn through the state machine in this process, every statement's round trip counted."""
    from clawgate.local.runtime import LocalRuntime

    from bench.pgtrace import traced_pool

    with traced_pool() as trips:
        runtime = LocalRuntime(namespace=f"trips{time.time_ns()}")
        try:
            run = {"source": "api", "tenant": SLUG, "agent": "assistant", "text": "hi", "peer": "trips"}
            runtime.state_machines.run("agent_turn", {**run, "request_id": f"warm-{time.time_ns()}"})
            trips.take()
            runtime.state_machines.run("agent_turn", {**run, "request_id": f"trips-{time.time_ns()}"})
            return trips.take()
        finally:
            runtime.close()


def long_run(runtime: Runtime, call: Call) -> str:
    samples, served = [], 0
    with httpx.Client(base_url=runtime.url, timeout=60) as client:
        while served < LONG_TURNS:
            call(client, f"long-{served}")
            served += 1
            if served == 1_000 or served % (LONG_TURNS // 5) == 0:  # the issue compares 1,000 turns with 10,000
                samples.append(f"{served}: {runtime.memory()}")
    return "  ".join(samples)


def main() -> None:
    from clawgate.local.fakes import FakeAnthropic
    from clawgate.settings import reset_settings
    from clawgate.tenancy.apply import apply_tenant
    from clawgate.tenancy.model import parse_tenant
    from clawgate.tenancy.tokens import create_token

    database_url = bench_database_url()
    reset_settings()
    from clawgate.db.migrate import ensure_platform

    ensure_platform()
    apply_tenant(parse_tenant(TENANT))
    token = create_token(SLUG)
    rows: list[tuple[str, str]] = []
    with FakeAnthropic() as model, tempfile.TemporaryDirectory(prefix="clawgate-bench-") as tmp:
        model.keep_requests = False
        model.default = None  # an instant echo
        runtime = Runtime(Path(tmp), database_url, model.url)
        try:
            call = run_api(token)
            sequential(runtime.url, call, fresh=True)  # warm: imports, pools, caches in every process
            fresh = sequential(runtime.url, call, fresh=True)
            same = sequential(runtime.url, call, fresh=False)
            cpu0, pg0 = runtime.cpu_seconds(), postgres_cpu_seconds(database_url)
            messages, elapsed = concurrent(runtime.url, call)
            cpu = (runtime.cpu_seconds() - cpu0) / messages * 1000
            pg = (postgres_cpu_seconds(database_url) - pg0) / messages * 1000
            served = 3 * SEQUENTIAL + messages
            memory = runtime.memory()
            p50, p95, drained = acks_under_backlog(runtime)
            rows += [
                ("HTTP agent message, sequential, fresh session (median)", f"{fresh:.1f} ms"),
                ("HTTP agent message, sequential, same session (median)", f"{same:.1f} ms"),
                (f"4 concurrent clients, {SECONDS:.0f} s", f"{messages / elapsed:.1f} msg/s"),
                ("CPU per message (runtime processes)", f"{cpu:.1f} ms"),
                ("CPU per message (PostgreSQL, for reference)", f"{pg:.1f} ms"),
                (f"RSS / PSS summed after the load ({served} turns)", memory),
                ("webhook ack p50 / p95 while 200 messages drain", f"{p50:.1f} / {p95:.1f} ms"),
                ("  the 300-message backlog answered in", f"{drained:.1f} s"),
                ("RSS / PSS summed after the backlog", runtime.memory()),
            ]
            if LONG_TURNS:
                rows.append((f"RSS / PSS over {LONG_TURNS} more sequential turns", long_run(runtime, call)))
        finally:
            runtime.stop()
        rows.append(("database round trips per turn (one turn, no tools)", str(round_trips_per_turn())))
    load = " / ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"== the local runtime, peer-comparable (clawgate dev, {WORKERS} worker process(es), instant model;"
        f" load average {load} at the end) =="
    )
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
