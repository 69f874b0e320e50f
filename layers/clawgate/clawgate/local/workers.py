"""Worker processes: the queue consumers (agent turns, leads, conversion events) run here, so the HTTP server only
acknowledges webhooks and a turn never competes with an ack for the interpreter. Workers also run at a lower CPU
priority (WORKER_NICENESS): when the cores are busy draining a backlog, the scheduler gives an acknowledgement the
CPU first, and a turn waits the fraction of a millisecond the ack takes.

Each worker is `python -m clawgate.local.workers` with the server's environment. It posts to the server's WebSockets
through its `@connections` route, finishes its batches in flight on SIGTERM/SIGINT, and exits by itself when the
runtime that started it dies (its stdin, a pipe from the runtime, reaches end of file). The pool restarts a worker
that died and releases what it held, so a crashed turn is retried at once rather than after the visibility
timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field

from clawgate.observability import logger

RECEIVER_ENV = "CLAWGATE_WORKER_RECEIVER"
CONNECTIONS_URL_ENV = "CLAWGATE_CONNECTIONS_URL"
CONNECTIONS_KEY_ENV = "CLAWGATE_CONNECTIONS_KEY"
NICENESS_ENV = "CLAWGATE_WORKER_NICENESS"
SIGNAL_CHECK_S = 0.5
WORKER_NICENESS = 10  # CFS weight 110 against the server's 1024: acks first, turns with the CPU that is left


@dataclass
class _Worker:
    receiver: str
    process: subprocess.Popen[bytes]


@dataclass
class WorkerPool:
    """N worker processes, kept at N until stop()."""

    count: int
    connections_url: str
    connections_key: str
    niceness: int = WORKER_NICENESS
    _workers: list[_Worker] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> WorkerPool:
        from clawgate.local.queue import release

        released = release()  # a previous run's receipts are void: it is gone
        if released:
            print(f"clawgate: {released} messages a previous run had received are queued again")
        with self._lock:
            self._workers = [self._spawn(n) for n in range(self.count)]
        threading.Thread(target=self._watch, name="worker-watch", daemon=True).start()
        return self

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers]

    def stop(self, timeout: float = 330.0) -> None:
        """SIGTERM to every worker: each finishes its batches in flight, then exits."""
        self._stopping.set()
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.process.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.error("worker did not stop in time; killed", extra={"pid": worker.process.pid})
                worker.process.kill()
                worker.process.wait()

    def _spawn(self, n: int) -> _Worker:
        receiver = f"worker-{n}:{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            RECEIVER_ENV: receiver,
            CONNECTIONS_URL_ENV: self.connections_url,
            CONNECTIONS_KEY_ENV: self.connections_key,
            NICENESS_ENV: str(self.niceness),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "clawgate.local.workers"], env=env, stdin=subprocess.PIPE, start_new_session=False
        )
        return _Worker(receiver, process)

    def _watch(self) -> None:
        from clawgate.local.queue import release

        while not self._stopping.wait(0.5):
            with self._lock:
                for n, worker in enumerate(self._workers):
                    code = worker.process.poll()
                    if code is None or self._stopping.is_set():
                        continue
                    released = release([worker.receiver])
                    logger.error("worker died; restarted", extra={"exit_code": code, "released": released})
                    self._workers[n] = self._spawn(n)


def _exit_when_parent_dies(stop: threading.Event) -> None:
    def watch() -> None:
        sys.stdin.buffer.read()  # returns at end of file: the runtime that started us is gone
        stop.set()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> int:
    import clawgate.local.stepfunctions  # noqa: F401  (the slowest import, done before the priority drops)
    from clawgate.local.connections import RemoteConnections
    from clawgate.local.runtime import LocalRuntime

    # Linux keeps a niceness per thread, and a thread starts with its creator's: lowered here, before any thread
    # starts, it holds for every consumer thread that runs a turn.
    os.nice(int(os.environ.get(NICENESS_ENV, WORKER_NICENESS)))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    _exit_when_parent_dies(stop)
    connections = RemoteConnections(os.environ[CONNECTIONS_URL_ENV], os.environ[CONNECTIONS_KEY_ENV])
    runtime = LocalRuntime(role="worker", connections=connections, receiver=os.environ[RECEIVER_ENV])
    # With a timeout: the kernel may hand SIGTERM to any thread, and the handler (which runs in this one) waits for
    # this thread to run Python again; an untimed wait would never wake, and the worker would ignore the signal.
    while not stop.wait(SIGNAL_CHECK_S):
        pass
    runtime.close()  # finishes the batches in flight
    connections.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
