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
    batching_window_s: int = 0  # AWS only: how long Lambda gathers a batch (needed above 10 messages)


@dataclass(frozen=True)
class ChannelWebhook:
    """A channel's webhook: the function `<channel>_webhook` (functions/<channel>_webhook/handler.py) behind
    `routes`, by default `POST /webhooks/<channel>/{tenant}/{agent}` (an account addressed by path). Webhooks verify,
    split and enqueue: no database, no tenant secrets (infra/function_settings.py:WEBHOOK); `platform_secrets` are
    the keys it verifies with, `sends_to` the queues it fills."""

    channel: str
    platform_secrets: tuple[str, ...]
    sends_to: tuple[str, ...] = ("inbound",)
    methods_at_root: tuple[str, ...] = ()  # served at /webhooks/<channel> instead (one URL for every account)

    @property
    def function(self) -> str:
        return f"{self.channel}_webhook"

    @property
    def routes(self) -> tuple[HttpRoute, ...]:
        if self.methods_at_root:
            return tuple(HttpRoute(m, f"/webhooks/{self.channel}", self.function) for m in self.methods_at_root)
        return (HttpRoute("POST", f"/webhooks/{self.channel}/{{tenant}}/{{agent}}", self.function),)


META_APP_KEYS = ("meta-app-secret", "meta-verify-token")  # X-Hub-Signature-256 and the subscription handshake
CHANNEL_WEBHOOKS: tuple[ChannelWebhook, ...] = (
    ChannelWebhook("whatsapp", META_APP_KEYS, methods_at_root=("GET", "POST")),
    ChannelWebhook("telegram", ("telegram-webhook-key",)),
    # Slack's signing secret and Discord's public key come sealed in the request URL under the same platform key.
    ChannelWebhook("slack", ("telegram-webhook-key",)),
    ChannelWebhook("discord", ("telegram-webhook-key",)),
    # Routes by `object`: Page leadgen to the lead queue, Messenger and Instagram messaging to the inbound queue.
    ChannelWebhook("meta", META_APP_KEYS, sends_to=("inbound", "lead"), methods_at_root=("GET", "POST")),
)

HTTP_ROUTES: tuple[HttpRoute, ...] = (
    *(route for webhook in CHANNEL_WEBHOOKS for route in webhook.routes),
    HttpRoute("POST", "/api/v1/tenants/{tenant}/agents/{agent}/run", "agent_run"),
    HttpRoute("GET", "/api/v1/tenants/{tenant}/agents/{agent}/runs/{request}", "agent_run"),
    # OpenAI-compatible chat (gateway/openai_api.py): the tenant comes from the gateway token, `model` = agent id.
    HttpRoute("GET", "/v1/models", "openai_api"),
    HttpRoute("POST", "/v1/chat/completions", "openai_api"),
    # The operator API (gateway/operator_api.py); its OpenAPI document is GET /api/v1/openapi.json.
    HttpRoute("GET", "/api/v1/openapi.json", "operator_api"),
    HttpRoute("POST", "/api/v1/tenants/{tenant}/messages", "operator_api"),
    HttpRoute("GET", "/api/v1/tenants/{tenant}/leads", "operator_api"),
    HttpRoute("GET", "/api/v1/tenants/{tenant}/dialogs", "operator_api"),
    HttpRoute("GET", "/api/v1/tenants/{tenant}/capi-events", "operator_api"),
    HttpRoute("GET", "/api/v1/tenants/{tenant}/metrics", "operator_api"),
    HttpRoute("GET", "/api/v1/tenants/{tenant}/metrics/conversations", "operator_api"),
    HttpRoute("GET", "/api/v1/tenants/{tenant}/usage", "operator_api"),
    HttpRoute("POST", "/api/v1/tenants/{tenant}/creatives/uploads", "operator_api"),
    # The operator inbox (gateway/inbox.py): conversations across every channel, human replies, templates.
    HttpRoute("GET", "/api/v1/tenants/{tenant}/conversations", "operator_api"),
    HttpRoute("GET", "/api/v1/tenants/{tenant}/conversations/{conversation}/messages", "operator_api"),
    HttpRoute("POST", "/api/v1/tenants/{tenant}/conversations/{conversation}/messages", "operator_api"),
    HttpRoute(
        "GET", "/api/v1/tenants/{tenant}/conversations/{conversation}/messages/{message}/media/{index}", "operator_api"
    ),
    HttpRoute("POST", "/api/v1/tenants/{tenant}/conversations/{conversation}/mode", "operator_api"),
    HttpRoute("PATCH", "/api/v1/tenants/{tenant}/conversations/{conversation}", "operator_api"),
    HttpRoute("POST", "/api/v1/tenants/{tenant}/conversations/{conversation}/template", "operator_api"),
    HttpRoute("GET", "/api/v1/tenants/{tenant}/templates", "operator_api"),
    HttpRoute("POST", "/api/v1/tenants/{tenant}/creatives/uploads/{upload}/complete", "operator_api"),
    # Local blob store only (in AWS the part URLs are S3's presigned ones and this answers 404).
    HttpRoute("PUT", "/api/v1/tenants/{tenant}/creatives/uploads/{upload}/parts/{part}", "operator_api"),
)

# API Gateway WebSocket route keys -> function. The protocol's own methods travel on $default.
WEBSOCKET_ROUTES: dict[str, str] = {
    "$connect": "ws_connect",
    "$disconnect": "ws_disconnect",
    "$default": "ws_message",
}

# Producers before their consumers' queues: the local runtime waits for idle queues in this order.
QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (
    QueueConsumer("inbound", fifo=True, target="workflow:agent_turn"),
    QueueConsumer("lead", fifo=False, target="lead_worker"),
    # One Graph request per tenant and batch (up to 1,000 events): a few seconds of batching saves requests.
    QueueConsumer("capi", fifo=False, target="capi_sender", batch_size=100, batching_window_s=5),
)

# State machine name -> the placeholder in its ASL file -> the function behind it.
WORKFLOW_TASKS: dict[str, dict[str, str]] = {
    "agent_turn": {
        "IngestFunctionArn": "turn_ingest",
        "CallModelFunctionArn": "turn_call_model",
        "RunToolFunctionArn": "turn_run_tool",
        "DeliverFunctionArn": "turn_deliver",
        "FailFunctionArn": "turn_fail",
    },
    # Standard workflow (infra.constructs.workflows.STANDARD_WORKFLOWS); input {tenant, job, scheduled_for?, params?}.
    "jobs": {"JobsRunFunctionArn": "jobs_run"},
}

# Functions that call a model: they get the model key, the longest timeout, and SnapStart where the runtime allows.
MODEL_FUNCTIONS = frozenset({"turn_call_model"})
