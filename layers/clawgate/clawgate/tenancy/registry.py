"""Read-side of the registry: what must be known before the tenant is (tenants, channel accounts)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from psycopg.rows import class_row

from clawgate.db import Conn, registry_tx
from clawgate.tenancy.model import TenantFile


@dataclass(frozen=True)
class ChannelAccount:
    tenant: str
    channel: str
    account_id: str
    agent_id: str | None
    config: dict[str, Any]


def account_config(account: ChannelAccount) -> dict[str, Any]:
    """What a channel adapter's `send_text`/`fetch_media` take as `account`: the registry config plus the account id
    (a WhatsApp account's phone_number_id is its account id, not part of its config), the tenant and the agent."""
    return {**account.config, "account_id": account.account_id, "tenant": account.tenant, "agent_id": account.agent_id}


@dataclass(frozen=True)
class TenantSummary:
    slug: str
    name: str
    timezone: str
    currency: str
    accounts: int


def find_channel_account(channel: str, account_id: str) -> ChannelAccount | None:
    with registry_tx() as conn:
        row = conn.execute(
            "SELECT tenant_slug, agent_id, config FROM channel_accounts WHERE channel = %s AND account_id = %s",
            (channel, account_id),
        ).fetchone()
    return ChannelAccount(row[0], channel, account_id, row[1], row[2]) if row else None


def load_tenant(slug: str) -> TenantFile | None:
    with registry_tx() as conn:
        row = conn.execute("SELECT config FROM tenants WHERE slug = %s", (slug,)).fetchone()
    return TenantFile.model_validate(row[0]) if row else None


TENANT_CACHE_S = 30.0
_tenant_cache: dict[str, tuple[float, TenantFile]] = {}


class UnknownTenantError(LookupError):
    pass


def cached_tenant(slug: str) -> TenantFile:
    """The tenant file, re-read at most every 30 s per process: every turn step needs it."""
    hit = _tenant_cache.get(slug)
    if hit and time.monotonic() - hit[0] < TENANT_CACHE_S:
        return hit[1]
    tenant = load_tenant(slug)
    if tenant is None:
        raise UnknownTenantError(f"no tenant {slug!r}")
    _tenant_cache[slug] = (time.monotonic(), tenant)
    return tenant


def forget_cached_tenants() -> None:
    _tenant_cache.clear()


def list_tenants() -> list[TenantSummary]:
    with registry_tx() as conn:
        return (
            conn.cursor(row_factory=class_row(TenantSummary))
            .execute(
                "SELECT t.slug, t.name, t.timezone, t.currency, count(a.id) AS accounts FROM tenants t"
                " LEFT JOIN channel_accounts a ON a.tenant_slug = t.slug GROUP BY t.slug ORDER BY t.slug"
            )
            .fetchall()
        )


def keep_unrouted(registry: Conn, channel: str, account_id: str | None, reason: str, payload: str) -> None:
    """An update no tenant owns (or that could not be read), kept raw in the registry's `unrouted_events`."""
    registry.execute(
        "INSERT INTO unrouted_events (channel, account_id, reason, payload) VALUES (%s, %s, %s, %s)",
        (channel, account_id, reason, payload),
    )
