"""The catalogue of entry points: which function serves which HTTP route, WebSocket route, queue and state-machine
task. The CDK app and the local runtime both read it, so the two cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # API Gateway syntax: /webhooks/telegram/{tenant}/{agent}
    function: str


@dataclass(frozen=True)
class QueueConsumer:
    queue: str  # inbound | capi | lead
    fifo: bool
    target: str  # a function name, or "workflow:<name>" for an EventBridge Pipe into a state machine
    batch_size: int = 10


HTTP_ROUTES: tuple[HttpRoute, ...] = (
    HttpRoute("GET", "/webhooks/whatsapp", "whatsapp_webhook"),
    HttpRoute("POST", "/webhooks/whatsapp", "whatsapp_webhook"),
)

# API Gateway WebSocket route keys -> function. The protocol's own methods travel on $default.
WEBSOCKET_ROUTES: dict[str, str] = {
    "$connect": "ws_connect",
    "$disconnect": "ws_disconnect",
    "$default": "ws_message",
}

QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (QueueConsumer("inbound", fifo=True, target="workflow:agent_turn"),)

# State machine name -> the placeholder in its ASL file -> the function behind it.
WORKFLOW_TASKS: dict[str, dict[str, str]] = {
    "agent_turn": {},
}
