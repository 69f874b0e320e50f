"""Wires the local runtime: handlers, queues, state machines and `@connections`, installed behind `core.ports`."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

from clawgate.core import ports
from clawgate.core.ports import QueueMessage
from clawgate.entrypoints import QUEUE_CONSUMERS, WORKFLOW_TASKS, QueueConsumer
from clawgate.local.connections import LocalConnections
from clawgate.local.lambdas import LocalLambdas
from clawgate.local.queue import LocalQueue, LocalQueues
from clawgate.local.stepfunctions import REGION, LocalStateMachines, function_arn
from clawgate.settings import PROJECT_ROOT

ASL_DIR = PROJECT_ROOT / "infra" / "statemachines"
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def load_definition(name: str, asl_dir: Path = ASL_DIR) -> dict[str, Any]:
    """The ASL file CDK deploys, with each `${Placeholder}` replaced by the local ARN of its function."""
    functions = WORKFLOW_TASKS[name]
    text = (asl_dir / f"{name}.asl.json").read_text()

    def substitute(match: re.Match[str]) -> str:
        return function_arn(functions[match.group(1)])

    loaded: dict[str, Any] = json.loads(PLACEHOLDER.sub(substitute, text))
    return loaded


def sqs_records(queue: str, batch: list[QueueMessage]) -> list[dict[str, Any]]:
    """Messages as SQS delivers them to a Pipe or a Lambda event source."""
    return [
        {
            "messageId": str(uuid.uuid4()),
            "receiptHandle": str(uuid.uuid4()),
            "body": m.body,
            "attributes": {"MessageGroupId": m.group_id or "", "MessageDeduplicationId": m.dedup_id or ""},
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(m.body.encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:000000000000:{queue}",
            "awsRegion": REGION,
        }
        for m in batch
    ]


class LocalRuntime:
    def __init__(self, lambdas: LocalLambdas | None = None) -> None:
        self.lambdas = lambdas or LocalLambdas()
        self.connections = LocalConnections()
        self.state_machines = LocalStateMachines(self.lambdas)
        self.queues = LocalQueues()
        for name in WORKFLOW_TASKS:
            if (ASL_DIR / f"{name}.asl.json").is_file():
                self.state_machines.register(name, load_definition(name))
        for consumer in QUEUE_CONSUMERS:
            self.queues.add(LocalQueue(consumer.queue, self._consumer(consumer), batch_size=consumer.batch_size))
        ports.install(ports.Ports(queues=self.queues, connections=self.connections, workflows=self.state_machines))

    def _consumer(self, consumer: QueueConsumer) -> Any:
        def deliver(batch: list[QueueMessage]) -> None:
            records = sqs_records(consumer.queue, batch)
            if consumer.target.startswith("workflow:"):
                self.state_machines.run(consumer.target.removeprefix("workflow:"), records)
                return
            result = self.lambdas.invoke(consumer.target, {"Records": records})
            if isinstance(result, dict) and result.get("batchItemFailures"):
                raise RuntimeError(f"{consumer.target} reported failures: {result['batchItemFailures']}")

        return deliver

    def close(self) -> None:
        self.queues.close()
        self.state_machines.close()
        ports.install(ports.Ports())
