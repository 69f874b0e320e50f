"""Workflow runs (StartSyncExecution's and StartExecution's jobs: the run API, the OpenAI-compatible API, the job
scheduler) carried out by the worker processes, so the HTTP server never loads the ASL interpreter nor spends its
interpreter on a turn: the server puts the run on the local `sync_runs` queue (and, for a synchronous run, waits);
a worker runs the state machine and writes the output where the server is woken to read it. A run that is only
started (StartExecution's) has no output to write, but the worker says when it has ended, so that the run API reads
the turn's result then instead of polling for it.

A worker that dies mid-run leaves the message to be received again (the run API's request id makes a second run
find the first one's turn); a run that fails is answered with its failure, never retried, as in AWS."""

from __future__ import annotations

import json
import time
import uuid
import weakref
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from clawgate.core.ports import Execution, QueueMessage, WorkflowRunner
from clawgate.db import registry_tx
from clawgate.local.consumers import Target, Wakeup
from clawgate.local.queue import CHANNEL, PgQueue, Received
from clawgate.observability import logger

QUEUE = "sync_runs"
TIMEOUT_S = 330.0  # an Express execution's five minutes, and some


class ExecutionFailedError(RuntimeError):
    """A run that did not succeed, as StartSyncExecution reports it: status, error and cause."""

    def __init__(self, status: str, error: str | None, cause: str | None) -> None:
        super().__init__(f"execution {status}: {error}: {cause}")
        self.status, self.error, self.cause = status, error, cause


def result_key(call: str) -> str:
    return f"result:{call}"


def sync_runs_queue(namespace: str = "") -> PgQueue:
    return PgQueue(QUEUE, fifo=False, batch_size=1, namespace=namespace)


class QueuedWorkflows:
    """Implements ports.WorkflowRunner for the HTTP server: the run happens in a worker, this waits for it."""

    def __init__(self, queue: PgQueue, wakeup: Wakeup, timeout_s: float = TIMEOUT_S) -> None:
        self._queue, self._wakeup, self._timeout_s = queue, wakeup, timeout_s

    def run(self, workflow: str, payload: Any) -> Any:
        call = uuid.uuid4().hex
        key = result_key(call)
        seen = self._wakeup.version(key)
        try:
            self._send(workflow, payload, call, reply=True)
            deadline = time.monotonic() + self._timeout_s
            while (result := _take_result(call)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ExecutionFailedError("TIMED_OUT", "States.Timeout", f"no worker finished {workflow} in time")
                self._wakeup.wait(key, seen, min(remaining, 1.0))
                seen = self._wakeup.version(key)
        finally:
            self._wakeup.forget(key)
        output, error = result
        if error is not None:
            raise ExecutionFailedError(error["status"], error.get("error"), error.get("cause"))
        return output

    def start(self, workflow: str, payload: Any) -> Execution:
        """StartExecution: a worker runs it and says when it has ended; its result is in the database."""
        call = uuid.uuid4().hex
        ended = _Ended(self._wakeup, result_key(call))
        self._send(workflow, payload, call, reply=False)
        return ended

    def _send(self, workflow: str, payload: Any, call: str, *, reply: bool) -> None:
        body = {"workflow": workflow, "payload": payload, "call": call, "reply": reply}
        self._queue.send([QueueMessage(json.dumps(body))])


class _Ended:
    """Implements ports.Execution for a run a worker carries out: woken by the worker's notification."""

    def __init__(self, wakeup: Wakeup, key: str) -> None:
        self._wakeup, self._key = wakeup, key
        self._seen = wakeup.version(key, exact=True)  # ended means: the worker said so
        weakref.finalize(self, wakeup.forget, key)  # the key is watched while someone holds this

    def wait(self, timeout: float) -> bool:
        self._wakeup.wait(self._key, self._seen, timeout)
        return self._wakeup.version(self._key) != self._seen


def worker_target(state_machines: WorkflowRunner) -> Target:
    """The `sync_runs` consumer of a worker process (its runner: the local state machines)."""

    def run(batch: list[Received]) -> set[int]:
        for message in batch:
            request = json.loads(message.body)
            output, error = None, None
            try:
                output = state_machines.run(request["workflow"], request["payload"])
            except ExecutionFailedError as failed:
                error = {"status": failed.status, "error": failed.error, "cause": failed.cause}
            except Exception as exc:  # answered, not retried: the caller would wait for nothing
                error = {"status": "FAILED", "error": type(exc).__name__, "cause": str(exc)[:2000]}
            call, reply = request["call"], request.get("reply", request["call"] is not None)
            if reply:
                _store_result(call, output, error)
                continue
            if error is not None:
                logger.error("execution failed", extra={"workflow": request["workflow"], **error})
            if call is not None:
                _notify(result_key(call))
        return set()

    return run


def _store_result(call: str, output: Any, error: dict[str, Any] | None) -> None:
    with registry_tx() as conn:
        conn.execute(
            "INSERT INTO sync_run_results (call_id, output, error) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (call, Jsonb(output), Jsonb(error) if error else None),
        )
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, result_key(call)))


def _notify(key: str) -> None:
    with registry_tx() as conn:
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, key))


def _take_result(call: str) -> tuple[Any, dict[str, Any] | None] | None:
    with registry_tx() as conn, conn.cursor(row_factory=dict_row) as cursor:
        query = "DELETE FROM sync_run_results WHERE call_id = %s RETURNING output, error"
        row = cursor.execute(query, (call,)).fetchone()
    return (row["output"], row["error"]) if row else None
