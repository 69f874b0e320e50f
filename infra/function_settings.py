"""Per-function settings: size, timeout and exactly what each function may reach.

Keys are folder names under `functions/`, every one of them (tests/infra check it). Whatever a function reaches in
AWS is granted from here and nowhere else, each grant with the environment variable the package reads for it:
queues (CLAWGATE_<QUEUE>_QUEUE_URL), workflows (CLAWGATE_<WORKFLOW>_STATE_MACHINE_ARN), @connections
(CLAWGATE_WEBSOCKET_ENDPOINT), the blob bucket (CLAWGATE_BLOB_BUCKET, per key area), the database
(CLAWGATE_DATABASE_APP_SECRET_ARN and CLAWGATE_DATABASE_HOST; the owner, master and query-key secrets only where
named) and platform secrets (as `secret:platform/...` references).
Functions without the database run outside the VPC; functions in it reach Meta, Telegram and Anthropic through the NAT.
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


# The blob bucket's key layout: `<tenant>/<area>/...` (channels/media.py, jobs/reports.py, gateway/uploads.py).
BLOB_AREAS = ("media", "reports", "creatives")
UPLOAD_AREA = "creatives"


@dataclass(frozen=True)
class FunctionSettings:
    memory_mb: int = 512
    timeout_s: int = 30
    database: bool = True  # the app login (every handler): its secret and the proxy or cluster endpoint
    owner_login: bool = False  # migrations and provisioning (clawgate_owner)
    admin_login: bool = False  # the master secret: bootstrap of the logins, the migrator only
    query_logins: bool = False  # the key the tenants' db_query logins derive from (creating or using them)
    runs_tenant_sql: bool = False  # connects as a tenant's query login, to the cluster itself (db_query)
    tenant_secrets: bool = True  # the `secret:` references of tenant files (channel and Meta tokens)
    platform_secrets: tuple[str, ...] = ()
    sends_to: tuple[str, ...] = ()  # queue names: inbound | capi | lead
    starts_workflows: tuple[str, ...] = ()  # workflows it starts or runs (ports.workflows().start / .run)
    posts_to_connections: bool = False  # WebSocket @connections (ports.connections())
    reads_blobs: tuple[str, ...] = ()  # BLOB_AREAS it reads
    writes_blobs: tuple[str, ...] = ()  # BLOB_AREAS it writes
    uploads: bool = False  # opens multipart uploads of creatives and presigns their part URLs (gateway/uploads.py)
    bedrock: bool = False
    snap_start: bool = False
    extras: tuple[str, ...] = ()  # pyproject optional-dependency groups shipped in this function's own asset
    writes_first_tokens: bool = False  # reads and fills `clawgate/<slug>/gateway-token` (tenancy/first_token.py)

    @property
    def in_vpc(self) -> bool:
        return self.database

    @property
    def blob_areas(self) -> tuple[str, ...]:
        areas = {*self.reads_blobs, *self.writes_blobs, *((UPLOAD_AREA,) if self.uploads else ())}
        return tuple(area for area in BLOB_AREAS if area in areas)


DEFAULT = FunctionSettings()
# Webhooks verify, split and enqueue: no database, no tenant secrets, outside the VPC, answered well within 10 s.
# Their cold import is ~40 ms (`python -m bench imports`), so 256 MB costs no latency worth paying for.
WEBHOOK = FunctionSettings(memory_mb=256, timeout_s=10, database=False, tenant_secrets=False)
# The other functions import psycopg, pydantic and botocore (~400 ms on one vCPU): 512 MB keeps a cold start near 1 s.
WEBSOCKET = FunctionSettings(timeout_s=10, tenant_secrets=False)
# The states of agent_turn: their timeouts are the states' TimeoutSeconds, and together they keep a turn inside
# Express's five minutes (clawgate/agent/deadline.py; tests/infra/test_turn_deadline.py checks the sum).
TURN_STEP = FunctionSettings(timeout_s=20)
# API Gateway cuts an integration at 30 s (HTTP API) or 29 s (WebSocket); a synchronous function ends before both.
HTTP_API_TIMEOUT_S = 28
WEBSOCKET_TIMEOUT_S = 28

FUNCTION_SETTINGS: dict[str, FunctionSettings] = {
    # Each channel's webhook, from its one declaration (entrypoints.CHANNEL_WEBHOOKS): its keys and its queues.
    **{
        webhook.function: replace(WEBHOOK, platform_secrets=webhook.platform_secrets, sends_to=webhook.sends_to)
        for webhook in entrypoints.CHANNEL_WEBHOOKS
    },
    "ws_connect": WEBSOCKET,
    "ws_disconnect": WEBSOCKET,
    # Reads ws_connections and devices on every frame (registry), answers over @connections, queues chat.send.
    "ws_message": replace(WEBSOCKET, timeout_s=WEBSOCKET_TIMEOUT_S, sends_to=("inbound",), posts_to_connections=True),
    # Media downloads go to the blob store and voice notes are read back for transcription; webchat typing over
    # @connections.
    "turn_ingest": replace(
        TURN_STEP, reads_blobs=("media",), writes_blobs=("media",), sends_to=("capi",), posts_to_connections=True
    ),
    # One model call, and in the same invocation the agent's fallback models when the first is overloaded.
    "turn_call_model": replace(TURN_STEP, memory_mb=1024, timeout_s=45, posts_to_connections=True),
    # db_query runs the model's SQL as the tenant's query login, on the cluster itself.
    "turn_run_tool": replace(
        TURN_STEP,
        memory_mb=1024,
        reads_blobs=("creatives",),
        sends_to=("capi",),
        query_logins=True,
        runs_tenant_sql=True,
    ),
    "turn_deliver": replace(TURN_STEP, timeout_s=8, posts_to_connections=True),
    "turn_fail": replace(TURN_STEP, timeout_s=8, posts_to_connections=True),
    # Starts the Express turn and waits on its row at most 20 s (then 202 and a result URL); never calls a model.
    "agent_run": replace(DEFAULT, timeout_s=HTTP_API_TIMEOUT_S, tenant_secrets=False, starts_workflows=("agent_turn",)),
    # The OpenAI-compatible API: starts the turn and waits as agent_run does; past 20 s, a 504 naming the result URL.
    "openai_api": replace(
        DEFAULT, timeout_s=HTTP_API_TIMEOUT_S, tenant_secrets=False, starts_workflows=("agent_turn",)
    ),
    # Sends operator messages (WhatsApp, Telegram: tenant tokens; webchat: @connections) and creative uploads; signs
    # the inbox's media previews (a presigned GET can read what its signer may: the media area, nothing else).
    "operator_api": replace(
        DEFAULT, timeout_s=HTTP_API_TIMEOUT_S, uploads=True, reads_blobs=("media",), posts_to_connections=True
    ),
    # Reports (charts into the blob store, Telegram), Graph syncs, scheduled turns through agent_turn. The only
    # function that draws charts, so the only one that ships Pillow (the `charts` extra, in its own asset).
    "jobs_run": replace(
        DEFAULT,
        memory_mb=1024,
        timeout_s=900,
        writes_blobs=("reports",),
        starts_workflows=("agent_turn",),
        extras=("charts",),
    ),
    # Batches of Conversions API events, one Graph request per tenant; a dead token is told to the operator.
    "capi_sender": replace(DEFAULT, timeout_s=60),
    # Fetches each lead from Graph, records it, queues its CAPI event, tells the operator on Telegram.
    "lead_worker": replace(DEFAULT, timeout_s=60, sends_to=("capi",)),
    # Also writes the tenant's first gateway token into its `clawgate/<slug>/gateway-token` secret, once.
    "tenant_provisioner": replace(
        DEFAULT, timeout_s=300, tenant_secrets=False, writes_first_tokens=True, owner_login=True, query_logins=True
    ),
    # `clawgate --aws …`: tokens, devices, pairings, channel status (bot tokens), jobs and turn replays. Invoked with
    # lambda:Invoke only (no API route): IAM decides who may.
    # Minting and revoking gateway tokens is the owner login's (clawgate/tenancy/tokens.py), not a handler's.
    "admin": replace(
        DEFAULT,
        timeout_s=300,
        owner_login=True,
        platform_secrets=("telegram-webhook-key",),
        starts_workflows=("agent_turn", "jobs"),
    ),
    # Bootstraps the logins with the master secret, then migrates as the owner.
    "db_migrator": replace(
        DEFAULT, timeout_s=900, tenant_secrets=False, admin_login=True, owner_login=True, query_logins=True
    ),
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
