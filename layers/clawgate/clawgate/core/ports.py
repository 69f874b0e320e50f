"""The few AWS services handlers talk to, behind small interfaces: queues (SQS), WebSocket `@connections`
(API Gateway Management API) and workflows (Step Functions). In AWS the boto3 adapters below are used; the local
runtime installs in-process ones with the same semantics. boto3 is imported only when an AWS adapter is first used,
so a webhook's cold start does not pay for it until it sends."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from clawgate.settings import get_settings


@dataclass(frozen=True)
class QueueMessage:
    body: str
    group_id: str | None = None
    dedup_id: str | None = None


class QueueSender(Protocol):
    def send(self, queue: str, messages: Sequence[QueueMessage]) -> None: ...


class ConnectionPoster(Protocol):
    def post(self, connection_id: str, data: str) -> bool: ...

    def delete(self, connection_id: str) -> None: ...


class Execution(Protocol):
    """A started execution, as far as the runner that started it can watch it."""

    def wait(self, timeout: float) -> bool:
        """Return when the execution ends or after `timeout` seconds: True once it has ended."""
        ...


class WorkflowRunner(Protocol):
    def run(self, workflow: str, payload: Any) -> Any: ...

    def start(self, workflow: str, payload: Any) -> Execution: ...


class Unwatched:
    """An execution whose end the caller sees only in the database (StartExecution in AWS): waiting is sleeping."""

    def wait(self, timeout: float) -> bool:
        time.sleep(timeout)
        return False


class SqsSender:
    """SQS in batches of 10 (the API's limit); FIFO queues get the group and deduplication ids."""

    def __init__(self) -> None:
        import boto3

        self._client = boto3.client("sqs")

    def send(self, queue: str, messages: Sequence[QueueMessage]) -> None:
        url = getattr(get_settings(), f"{queue}_queue_url", None)
        if not url:
            raise RuntimeError(f"no URL configured for queue {queue!r} (CLAWGATE_{queue.upper()}_QUEUE_URL)")
        fifo = url.endswith(".fifo")
        for start in range(0, len(messages), 10):
            entries = [_sqs_entry(i, m, fifo) for i, m in enumerate(messages[start : start + 10])]
            response = self._client.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
            if response.get("Failed"):
                raise RuntimeError(f"SQS rejected {len(response['Failed'])} messages: {response['Failed'][0]}")


def _sqs_entry(index: int, message: QueueMessage, fifo: bool) -> dict[str, str]:
    """Group and deduplication ids are FIFO-only fields; a standard queue refuses them."""
    entry = {"Id": str(index), "MessageBody": message.body}
    if not fifo:
        return entry
    if message.group_id:
        entry["MessageGroupId"] = message.group_id
    if message.dedup_id:
        entry["MessageDeduplicationId"] = message.dedup_id[:128]
    return entry


class ApiGatewayConnections:
    def __init__(self) -> None:
        import boto3

        self._client = boto3.client("apigatewaymanagementapi", endpoint_url=get_settings().websocket_endpoint)

    def post(self, connection_id: str, data: str) -> bool:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data.encode())
        except self._client.exceptions.GoneException:
            return False
        return True

    def delete(self, connection_id: str) -> None:
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except self._client.exceptions.GoneException:
            return


class StepFunctionsRunner:
    """`run` waits for the execution: an Express one synchronously, a Standard one (which StartSyncExecution
    refuses) by polling it; `start` returns once the execution has started."""

    POLL_S = 2.0

    def __init__(self) -> None:
        import boto3

        self._client = boto3.client("stepfunctions")

    def run(self, workflow: str, payload: Any) -> Any:
        arn = _state_machine_arn(workflow)
        try:
            response: Any = self._client.start_sync_execution(stateMachineArn=arn, input=json.dumps(payload))
        except self._client.exceptions.StateMachineTypeNotSupported:
            response = self._wait(self._client.start_execution(stateMachineArn=arn, input=json.dumps(payload)))
        if response["status"] != "SUCCEEDED":
            raise RuntimeError(f"{workflow} {response['status']}: {response.get('error')} {response.get('cause')}")
        return json.loads(response.get("output") or "null")

    def start(self, workflow: str, payload: Any) -> Execution:
        self._client.start_execution(stateMachineArn=_state_machine_arn(workflow), input=json.dumps(payload))
        return Unwatched()

    def _wait(self, started: Any) -> Any:
        while True:
            described = self._client.describe_execution(executionArn=started["executionArn"])
            if described["status"] != "RUNNING":
                return described
            time.sleep(self.POLL_S)


def _state_machine_arn(workflow: str) -> str:
    import os

    return os.environ[f"CLAWGATE_{workflow.upper()}_STATE_MACHINE_ARN"]


@dataclass
class Ports:
    queues: QueueSender | None = None
    connections: ConnectionPoster | None = None
    workflows: WorkflowRunner | None = None


_ports = Ports()


def install(ports: Ports) -> None:
    """Replace the AWS adapters (the local runtime does this at start)."""
    global _ports
    _ports = ports


def queues() -> QueueSender:
    if _ports.queues is None:
        _ports.queues = SqsSender()
    return _ports.queues


def connections() -> ConnectionPoster:
    if _ports.connections is None:
        _ports.connections = ApiGatewayConnections()
    return _ports.connections


def workflows() -> WorkflowRunner:
    if _ports.workflows is None:
        _ports.workflows = StepFunctionsRunner()
    return _ports.workflows
