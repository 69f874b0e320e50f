"""Per-function settings: size, timeout and exactly what each function may reach.

Keys are folder names under `functions/`. A function without an entry gets `DEFAULT`: the database and the tenants'
`secret:` references, nothing else. Adding a queue, a bucket or a platform secret to a function is a line here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from clawgate import entrypoints


@dataclass(frozen=True)
class PlatformSecret:
    """A secret of the agency, not of a tenant: Secrets Manager `clawgate/platform/<name>`.

    Where the package reads a setting, the function's environment variable holds the reference
    `secret:platform/<name>` (resolved by `clawgate.secrets.resolve`); the value never enters the environment.
    """

    name: str
    env: str | None
    description: str

    @property
    def reference(self) -> str:
        return f"secret:platform/{self.name}"

    @property
    def secret_name(self) -> str:
        return f"clawgate/platform/{self.name}"


PLATFORM_SECRETS: dict[str, PlatformSecret] = {
    secret.name: secret
    for secret in (
        PlatformSecret("meta-app-secret", "CLAWGATE_META_APP_SECRET", "Meta app secret (X-Hub-Signature-256)"),
        PlatformSecret("meta-verify-token", "CLAWGATE_META_VERIFY_TOKEN", "Meta webhook hub.verify_token"),
        PlatformSecret(
            "telegram-webhook-key",
            "CLAWGATE_TELEGRAM_WEBHOOK_KEY",
            "Key the per-bot Telegram webhook secrets derive from",
        ),
        # agent.providers reads `secret:platform/anthropic` itself when ANTHROPIC_API_KEY is unset.
        PlatformSecret("anthropic", None, "Anthropic API key of the agency"),
    )
}


@dataclass(frozen=True)
class FunctionSettings:
    memory_mb: int = 512
    timeout_s: int = 30
    database: bool = True
    tenant_secrets: bool = True
    platform_secrets: tuple[str, ...] = ()
    sends_to: tuple[str, ...] = ()  # queue names: inbound | capi | lead
    starts_workflows: tuple[str, ...] = ()  # Express workflows it runs synchronously
    posts_to_connections: bool = False  # WebSocket @connections
    blobs: bool = False  # read/write the blob bucket (media, report charts, creatives)
    uploads: bool = False  # also presign multipart uploads into it (needs blobs)
    bedrock: bool = False
    snap_start: bool = False

    @property
    def in_vpc(self) -> bool:
        return self.database


DEFAULT = FunctionSettings()
# Webhooks verify, split and enqueue: no database, no tenant secrets, outside the VPC, answered well within 10 s.
WEBHOOK = FunctionSettings(memory_mb=256, timeout_s=10, database=False, tenant_secrets=False)
WEBSOCKET = FunctionSettings(memory_mb=256, timeout_s=10, tenant_secrets=False)
TURN_STEP = FunctionSettings(timeout_s=60)
# API Gateway gives an integration at most 30 s.
HTTP_API_TIMEOUT_S = 30

FUNCTION_SETTINGS: dict[str, FunctionSettings] = {
    "whatsapp_webhook": replace(
        WEBHOOK, platform_secrets=("meta-app-secret", "meta-verify-token"), sends_to=("inbound",)
    ),
    "meta_webhook": replace(WEBHOOK, platform_secrets=("meta-app-secret", "meta-verify-token"), sends_to=("lead",)),
    "telegram_webhook": replace(WEBHOOK, platform_secrets=("telegram-webhook-key",), sends_to=("inbound",)),
    "ws_connect": WEBSOCKET,
    "ws_disconnect": WEBSOCKET,
    "ws_message": replace(WEBSOCKET, timeout_s=29, sends_to=("inbound",), posts_to_connections=True),
    "turn_ingest": replace(TURN_STEP, blobs=True, sends_to=("capi",)),
    "turn_call_model": replace(TURN_STEP, memory_mb=1024, timeout_s=180, posts_to_connections=True),
    "turn_run_tool": replace(TURN_STEP, blobs=True, sends_to=("capi",)),
    "turn_deliver": replace(TURN_STEP, blobs=True, posts_to_connections=True, sends_to=("capi",)),
    "turn_fail": replace(TURN_STEP, posts_to_connections=True),
    "agent_run": replace(DEFAULT, memory_mb=1024, timeout_s=HTTP_API_TIMEOUT_S, starts_workflows=("agent_turn",)),
    "operator_api": replace(DEFAULT, timeout_s=HTTP_API_TIMEOUT_S, blobs=True, uploads=True),
    "jobs_run": replace(DEFAULT, memory_mb=1024, timeout_s=900, blobs=True, starts_workflows=("agent_turn",)),
    "capi_sender": replace(DEFAULT, timeout_s=60),
    "lead_worker": replace(DEFAULT, timeout_s=60, sends_to=("capi",)),
    "tenant_provisioner": replace(DEFAULT, timeout_s=300, tenant_secrets=False),
    "db_migrator": replace(DEFAULT, timeout_s=900, tenant_secrets=False),
}


def settings_for(function: str) -> FunctionSettings:
    """The table's entry; functions in `entrypoints.MODEL_FUNCTIONS` also get the model key, Bedrock and SnapStart."""
    settings = FUNCTION_SETTINGS.get(function, DEFAULT)
    if function in entrypoints.MODEL_FUNCTIONS:
        settings = replace(
            settings,
            platform_secrets=(*settings.platform_secrets, "anthropic"),
            bedrock=True,
            snap_start=True,
            memory_mb=max(settings.memory_mb, 1024),
        )
    return settings
