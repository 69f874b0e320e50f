"""Wires the local runtime: handlers, queues, state machines and `@connections`, installed behind `core.ports`."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clawgate.core import ports
from clawgate.entrypoints import QUEUE_CONSUMERS, WORKFLOW_TASKS, QueueConsumer
from clawgate.local.connections import LocalConnections
from clawgate.local.consumers import Consumer, Consumers, Target
from clawgate.local.lambdas import LocalLambdas
from clawgate.local.queue import PgQueue, PgQueues, Received
from clawgate.local.stepfunctions import REGION, LocalStateMachines, function_arn
from clawgate.settings import PROJECT_ROOT

ASL_DIR = PROJECT_ROOT / "infra" / "statemachines"
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
# Consumer threads per queue and process: turns wait on the model most of the time, so a few overlap well.
CONSUMER_THREADS = {"inbound": 4, "lead": 1, "capi": 1}


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


class LocalRuntime:
    """Handlers, state machines, queues and `@connections` of one process. With `consume`, this process also runs
    the queue consumers (the tests, `clawgate dev --workers 0`, and each worker process); without, it only sends
    (the HTTP server when workers run the turns). Runtimes that share a database but not their queues (the tests')
    each take a `namespace`."""

    def __init__(
        self,
        lambdas: LocalLambdas | None = None,
        *,
        consume: bool = True,
        connections: ports.ConnectionPoster | None = None,
        receiver: str | None = None,
        namespace: str = "",
    ) -> None:
        self.lambdas = lambdas or LocalLambdas()
        self.connections = LocalConnections()
        self.state_machines = LocalStateMachines(self.lambdas)
        self.queues = platform_queues(namespace)
        for name in WORKFLOW_TASKS:
            if (ASL_DIR / f"{name}.asl.json").is_file():
                self.state_machines.register(name, load_definition(name))
        poster = connections or self.connections
        ports.install(ports.Ports(queues=self.queues, connections=poster, workflows=self.state_machines))
        self.consumers: Consumers | None = None
        if consume:
            consumers = [
                Consumer(self.queues.get(c.queue), self._target(c), threads=CONSUMER_THREADS.get(c.queue, 1))
                for c in QUEUE_CONSUMERS
            ]
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
        ports.install(ports.Ports())
