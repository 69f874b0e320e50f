"""Process settings, read once from the environment (the same names locally and in AWS). A plain dataclass: the
webhook functions read it on their cold-start path."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None  # the admin login (locally); Clawgate derives its own logins from it
    database_secret_arn: str | None = None  # AWS: the master secret, read by the migrator only (bootstrap)
    database_owner_secret_arn: str | None = None  # AWS: clawgate_owner (migrations, provisioning)
    database_app_secret_arn: str | None = None  # AWS: clawgate_app (every handler)
    database_query_key: str | None = None  # AWS: `secret:` reference of the key the query logins' passwords derive from
    database_host: str | None = None  # in AWS: the RDS Proxy or the cluster endpoint (the secret names the cluster)
    database_query_host: str | None = None  # AWS: the cluster endpoint for db_query logins (default: database_host)
    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / ".clawgate")
    port: int = 8787
    meta_app_secret: str | None = None
    meta_verify_token: str | None = None
    graph_url: str = "https://graph.facebook.com"
    graph_version: str = "v26.0"
    instagram_api_url: str = "https://graph.instagram.com"  # the Instagram API with Instagram Login
    telegram_api_url: str = "https://api.telegram.org"
    fx_rates_url: str = "https://open.er-api.com/v6/latest/USD"  # the rate job's source (units per US dollar)
    slack_api_url: str = "https://slack.com"  # Web API calls go to {base}/api/<method>
    discord_api_url: str = "https://discord.com"  # REST calls go to {base}/api/v10/…
    telegram_webhook_key: str | None = None  # per-bot webhook secrets derive from it (literal or secret:)
    blob_bucket: str | None = None  # S3 bucket of the blob store; unset: data_dir/blobs
    inbound_queue_url: str | None = None
    capi_queue_url: str | None = None
    lead_queue_url: str | None = None
    websocket_endpoint: str | None = None
    dev_auto_approve_loopback: bool = False  # `clawgate dev` only: control-UI devices on loopback need no approval

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {
            name: env[f"CLAWGATE_{name.upper()}"]
            for name in cls.__dataclass_fields__
            if env.get(f"CLAWGATE_{name.upper()}")
        }
        if "port" in values:
            values["port"] = int(str(values["port"]))
        if "data_dir" in values:
            values["data_dir"] = Path(str(values["data_dir"]))
        if "dev_auto_approve_loopback" in values:
            values["dev_auto_approve_loopback"] = str(values["dev_auto_approve_loopback"]).lower() in ("1", "true")
        return cls(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    """Forget the cached settings (the local runtime and tests change the environment)."""
    get_settings.cache_clear()
