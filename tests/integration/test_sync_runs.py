"""Runs the HTTP server hands to a worker process: a started run (the run API's StartExecution) can be waited on
until the worker says it has ended, leaves no result row behind, and a process keeps count only of the
notifications it is waiting for."""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from clawgate.db import registry_tx
from clawgate.local.consumers import Consumer, Consumers, Wakeup
from clawgate.local.queue import CHANNEL
from clawgate.local.sync_runs import QueuedWorkflows, sync_runs_queue, worker_target


class HeldRunner:
    """A worker's state machines whose runs end only when the test releases them."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.payloads: list[Any] = []

    def run(self, workflow: str, payload: Any) -> Any:
        self.payloads.append(payload)
        assert self.release.wait(30)
        return {"done": payload}

    def start(self, workflow: str, payload: Any) -> Any:
        raise AssertionError("a worker runs what it receives")


def stored_results() -> int:
    with registry_tx() as conn:
        row = conn.execute("SELECT count(*) FROM sync_run_results").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def wakeup(database: str) -> Iterator[Wakeup]:
    wakeup = Wakeup()
    wakeup.start()
    yield wakeup
    wakeup.stop()


def test_a_started_run_is_waited_on_until_the_worker_ends_it_and_leaves_no_result(wakeup: Wakeup) -> None:
    namespace = uuid.uuid4().hex[:8]
    runner = HeldRunner()
    worker = Consumers([Consumer(sync_runs_queue(namespace), worker_target(runner))]).start()
    results_before = stored_results()
    try:
        execution = QueuedWorkflows(sync_runs_queue(namespace), wakeup).start("agent_turn", {"n": 1})
        assert execution.wait(0.3) is False  # the worker holds the run
        wakeup.poke("*")  # anything may have changed (a reconnection, released receipts): not this run's end
        assert execution.wait(0.3) is False
        runner.release.set()
        assert execution.wait(30) is True
        assert runner.payloads == [{"n": 1}]
        assert stored_results() == results_before  # nobody takes a started run's output: none is stored
        assert QueuedWorkflows(sync_runs_queue(namespace), wakeup).run("agent_turn", {"n": 2}) == {"done": {"n": 2}}
    finally:
        runner.release.set()
        worker.stop(timeout=10)
    del execution
    gc.collect()
    assert not any(key.startswith("result:") for key in wakeup.watched())  # nothing awaited, nothing kept


def test_notifications_nobody_here_waits_for_leave_nothing_behind(wakeup: Wakeup) -> None:
    watched = f"queue-{uuid.uuid4().hex[:8]}"
    seen = wakeup.version(watched)
    with registry_tx() as conn:
        for n in range(50):  # every process hears every other process's run ends
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"result:{uuid.uuid4().hex}-{n}"))
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, watched))
    wakeup.wait(watched, seen, 30)
    assert wakeup.version(watched) > seen
    assert not any(key.startswith("result:") for key in wakeup.watched())
    wakeup.forget(watched)
    assert watched not in wakeup.watched()
