"""The registry's routing rows: what must be known before the tenant is (tenants, channel accounts, and the updates
no tenant owns)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.rows import class_row, dict_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


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


def find_channel_account(conn: Conn, channel: str, account_id: str) -> ChannelAccount | None:
    return (
        conn.cursor(row_factory=class_row(ChannelAccount))
        .execute(
            "SELECT tenant_slug AS tenant, channel, account_id, agent_id, config FROM channel_accounts"
            " WHERE channel = %s AND account_id = %s",
            (channel, account_id),
        )
        .fetchone()
    )


def account_owner(conn: Conn, channel: str, account_id: str) -> str | None:
    """The tenant a channel account is registered to, if any."""
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT tenant_slug FROM channel_accounts WHERE channel = %s AND account_id = %s", (channel, account_id)
        )
        .fetchone()
    )
    return str(row["tenant_slug"]) if row else None


def tenant_config(conn: Conn, slug: str) -> dict[str, Any] | None:
    """The tenant file as it was applied (JSON), or None for an unknown tenant."""
    row = conn.cursor(row_factory=dict_row).execute("SELECT config FROM tenants WHERE slug = %s", (slug,)).fetchone()
    return dict(row["config"]) if row else None


def tenant_exists(conn: Conn, slug: str) -> bool:
    return conn.execute("SELECT 1 FROM tenants WHERE slug = %s", (slug,)).fetchone() is not None


def list_tenants(conn: Conn) -> list[TenantSummary]:
    return (
        conn.cursor(row_factory=class_row(TenantSummary))
        .execute(
            "SELECT t.slug, t.name, t.timezone, t.currency, count(a.id) AS accounts FROM tenants t"
            " LEFT JOIN channel_accounts a ON a.tenant_slug = t.slug GROUP BY t.slug ORDER BY t.slug"
        )
        .fetchall()
    )


def keep_unrouted(conn: Conn, channel: str, account_id: str | None, reason: str, payload: str) -> None:
    """An update no tenant owns (or that could not be read), kept raw in the registry's `unrouted_events`."""
    conn.execute(
        "INSERT INTO unrouted_events (channel, account_id, reason, payload) VALUES (%s, %s, %s, %s)",
        (channel, account_id, reason, payload),
    )


@dataclass(frozen=True)
class AccountKey:
    channel: str
    account_id: str


def upsert_tenant(conn: Conn, slug: str, name: str, timezone: str, currency: str, config: dict[str, Any],
                  file_sha256: str) -> bool:  # fmt: skip
    """The tenant's record; True when it changed (a file with the same digest changes nothing)."""
    return (
        conn.execute(
            "INSERT INTO tenants (slug, name, timezone, currency, config, file_sha256)"
            " VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, timezone = EXCLUDED.timezone,"
            " currency = EXCLUDED.currency, config = EXCLUDED.config, file_sha256 = EXCLUDED.file_sha256,"
            " updated_at = now()"
            " WHERE tenants.file_sha256 IS DISTINCT FROM EXCLUDED.file_sha256 RETURNING slug",
            (slug, name, timezone, currency, Jsonb(config), file_sha256),
        ).fetchone()
        is not None
    )


def upsert_channel_account(conn: Conn, account: ChannelAccount) -> bool:
    """Route `account` to its tenant; True when it is new or its agent or config changed."""
    return (
        conn.execute(
            "INSERT INTO channel_accounts (tenant_slug, channel, account_id, agent_id, config)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (channel, account_id) DO UPDATE"
            " SET agent_id = EXCLUDED.agent_id, config = EXCLUDED.config"
            " WHERE (channel_accounts.agent_id, channel_accounts.config)"
            " IS DISTINCT FROM (EXCLUDED.agent_id, EXCLUDED.config) RETURNING id",
            (account.tenant, account.channel, account.account_id, account.agent_id, Jsonb(account.config)),
        ).fetchone()
        is not None
    )


def remove_channel_accounts_except(conn: Conn, slug: str, keep: list[AccountKey]) -> list[AccountKey]:
    """Unroute the tenant's accounts that are not in `keep`; returns those removed."""
    return (
        conn.cursor(row_factory=class_row(AccountKey))
        .execute(
            "DELETE FROM channel_accounts WHERE tenant_slug = %s AND channel || ':' || account_id <> ALL(%s::text[])"
            " RETURNING channel, account_id",
            (slug, [f"{key.channel}:{key.account_id}" for key in keep]),
        )
        .fetchall()
    )
