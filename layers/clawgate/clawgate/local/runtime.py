"""Wires the local runtime: handlers, queues, state machines and `@connections`, installed behind `core.ports`."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from clawgate.core import ports
from clawgate.entrypoints import QUEUE_CONSUMERS, WORKFLOW_TASKS, QueueConsumer
from clawgate.local.connections import LocalConnections
from clawgate.local.consumers import Consumer, Consumers, Target, Wakeup
from clawgate.local.lambdas import REGION, LocalLambdas, function_arn
from clawgate.local.queue import PgQueue, PgQueues, Received
from clawgate.local.sync_runs import QueuedWorkflows, sync_runs_queue, worker_target
from clawgate.settings import PROJECT_ROOT

ASL_DIR = PROJECT_ROOT / "infra" / "statemachines"
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
# Consumer threads per queue and process: turns wait on the model most of the time, so a few overlap well.
CONSUMER_THREADS = {"inbound": 4, "lead": 1, "capi": 1, "sync_runs": 4}


def load_definition(name: str, asl_dir: Path = ASL_DIR) -> dict[str, Any]:
    """The ASL file CDK deploys, with each `${Placeholder}` replaced by the local ARN of its function."""
    functions = WORKFLOW_TASKS[name]
    text = (asl_dir / f"{name}.asl.json").read_text()

    def substitute(match: re.Match[str]) -> str:
        return function_arn(functions[match.group(1)])

    loaded: dict[str, Any] = json.loads(PLACEHOLDER.sub(substitute, text))
    return loaded


def sqs_records(queue: str, batch: list[Received]) -> list[dict[str, Any]]:
    """Messages as SQS delivers them to a Pipe or a Lambda event source."""
    return [
        {
            "messageId": str(m.id),
            "receiptHandle": str(m.receipt),
            "body": m.body,
            "attributes": {
                "ApproximateReceiveCount": str(m.receive_count),
                "MessageGroupId": m.group_id or "",
                "MessageDeduplicationId": m.dedup_id or "",
            },
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(m.body.encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:000000000000:{queue}",
            "awsRegion": REGION,
        }
        for m in batch
    ]


def platform_queues(namespace: str = "") -> PgQueues:
    return PgQueues(
        [PgQueue(c.queue, fifo=c.fifo, batch_size=c.batch_size, namespace=namespace) for c in QUEUE_CONSUMERS]
    )


Role = Literal["all", "server", "worker"]


class LocalRuntime:
    """Handlers, queues and `@connections` of one process, in one of three roles:

    - "all": everything in this process, the state machines and the queue consumers (tests, `--workers 0`);
    - "server": the HTTP server beside worker processes: it sends to the queues and hands synchronous runs to the
      workers (clawgate.local.sync_runs); it loads no ASL interpreter and runs no turn;
    - "worker": a worker process: the state machines, the queue consumers and the synchronous runs.

    Runtimes that share a database but not their queues (the tests') each take a `namespace`."""

    def __init__(
        self,
        lambdas: LocalLambdas | None = None,
        *,
        role: Role = "all",
        connections: ports.ConnectionPoster | None = None,
        receiver: str | None = None,
        namespace: str = "",
    ) -> None:
        self.lambdas = lambdas or LocalLambdas()
        self.connections = LocalConnections()
        self.queues = platform_queues(namespace)
        self.consumers: Consumers | None = None
        self._wakeup: Wakeup | None = None
        poster = connections or self.connections
        if role == "server":
            self._wakeup = Wakeup()
            self._wakeup.start()
            runner: ports.WorkflowRunner = QueuedWorkflows(sync_runs_queue(namespace), self._wakeup)
            ports.install(ports.Ports(queues=self.queues, connections=poster, workflows=runner))
            return
        from clawgate.local.stepfunctions import LocalStateMachines

        self.state_machines = LocalStateMachines(self.lambdas)
        for name in WORKFLOW_TASKS:
            if (ASL_DIR / f"{name}.asl.json").is_file():
                self.state_machines.register(name, load_definition(name))
        ports.install(ports.Ports(queues=self.queues, connections=poster, workflows=self.state_machines))
        consumers = [
            Consumer(self.queues.get(c.queue), self._target(c), threads=CONSUMER_THREADS.get(c.queue, 1))
            for c in QUEUE_CONSUMERS
        ]
        if role == "worker":
            runs = sync_runs_queue(namespace)
            consumers.append(Consumer(runs, worker_target(self.state_machines), threads=CONSUMER_THREADS[runs.name]))
        self.consumers = Consumers(consumers, receiver).start()

    def _target(self, consumer: QueueConsumer) -> Target:
        def deliver(batch: list[Received]) -> set[int]:
            records = sqs_records(consumer.queue, batch)
            if consumer.target.startswith("workflow:"):
                self.state_machines.run(consumer.target.removeprefix("workflow:"), records)
                return set()
            result = self.lambdas.invoke(consumer.target, {"Records": records})
            failures = result.get("batchItemFailures") if isinstance(result, dict) else None
            return {int(f["itemIdentifier"]) for f in failures or ()}

        return deliver

    @contextmanager
    def divert(self, queue: str, target: Target) -> Iterator[None]:
        """Hand `queue`'s batches to `target` instead of their consumer for a while (tests of what producers send)."""
        if self.consumers is None:
            raise RuntimeError("this runtime does not consume its queues")
        consumer = self.consumers.consumer(queue)
        original, consumer.target = consumer.target, target
        try:
            yield
        finally:
            consumer.target = original

    def close(self) -> None:
        """Finish the batches in flight, then stop."""
        if self.consumers is not None:
            self.consumers.stop()
            self.state_machines.close()
        if self._wakeup is not None:
            self._wakeup.stop()
        ports.install(ports.Ports())
