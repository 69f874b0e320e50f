"""`clawgate tenants apply`: schema, roles, migrations, registry rows, agents, bindings, workspace seed and CAPI
settings, from one tenant file. Every write is an upsert guarded by IS DISTINCT FROM, so applying the same file twice
changes nothing and reports nothing; an edited file updates exactly what changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb

from clawgate.db import Conn, owner_tx
from clawgate.db.migrate import ensure_platform, provision_tenant
from clawgate.db.names import tenant_schema
from clawgate.tenancy.model import TenantFile
from clawgate.tenancy.registry import cached_tenant, forget_cached_tenants
from clawgate.tenancy.workspace import SEEDED_BY, render_workspace


class ChannelAccountTakenError(ValueError):
    pass


@dataclass
class ApplyResult:
    slug: str
    changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AccountRow:
    channel: str
    account_id: str
    agent_id: str | None
    config: dict[str, object]


def telegram_account_id(slug: str, agent_id: str) -> str:
    """Telegram bots (and Slack and Discord apps) are addressed by path (/webhooks/telegram/{tenant}/{agent}), so
    the key needs no token."""
    return f"{slug}/{agent_id}"


def channel_accounts(tenant: TenantFile) -> list[AccountRow]:
    rows = [
        AccountRow("whatsapp", a.phone_number_id, a.agent, a.model_dump(exclude={"agent"}))  # send_text needs the id
        for a in tenant.channels.whatsapp
    ]
    rows += [
        AccountRow("telegram", telegram_account_id(tenant.slug, a.agent), a.agent, a.model_dump(exclude={"agent"}))
        for a in tenant.channels.telegram
    ]
    rows += [  # addressed by path like Telegram: /webhooks/{slack,discord}/{tenant}/{agent}
        AccountRow(channel, telegram_account_id(tenant.slug, a.agent), a.agent, a.model_dump(exclude={"agent"}))
        for channel, accounts in (("slack", tenant.channels.slack), ("discord", tenant.channels.discord))
        for a in accounts
    ]
    rows += [AccountRow("messenger", a.page_id, a.agent, a.model_dump(exclude={"agent"}))
             for a in tenant.channels.messenger]  # fmt: skip
    rows += [AccountRow("instagram", a.ig_user_id, a.agent, a.model_dump(exclude={"agent"}))
             for a in tenant.channels.instagram]  # fmt: skip
    if tenant.meta and tenant.meta.page_id:
        rows.append(AccountRow("meta_page", tenant.meta.page_id, None, {"access_token": tenant.meta.access_token}))
    rows.append(AccountRow("webchat", tenant.slug, None, {"tenant": tenant.slug}))  # the control UI's chat
    return rows


def file_digest(tenant: TenantFile) -> str:
    return hashlib.sha256(json.dumps(tenant.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def apply_tenant(tenant: TenantFile) -> ApplyResult:
    result = ApplyResult(tenant.slug)
    forget_cached_tenants()
    if applied := ensure_platform():
        result.changes.append(f"registry migrations {', '.join(applied)}")
    if applied := provision_tenant(tenant.slug):
        result.changes.append(f"tenant migrations {', '.join(applied)}")
    with owner_tx() as conn:  # provisioning: the owner login, the only one that may write the registry's routes
        result.changes += _sync_registry(conn, tenant)
    with owner_tx(tenant_schema(tenant.slug)) as conn:
        result.changes += _sync_agents(conn, tenant)
        result.changes += _sync_bindings(conn, tenant)
        result.changes += _seed_workspace(conn, tenant)
        result.changes += _sync_capi(conn, tenant)
    return result


def _sync_registry(conn: Conn, tenant: TenantFile) -> list[str]:
    changes = []
    changed = conn.execute(
        "INSERT INTO tenants (slug, name, timezone, currency, config, file_sha256) VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, timezone = EXCLUDED.timezone,"
        " currency = EXCLUDED.currency, config = EXCLUDED.config, file_sha256 = EXCLUDED.file_sha256,"
        " updated_at = now()"
        " WHERE tenants.file_sha256 IS DISTINCT FROM EXCLUDED.file_sha256 RETURNING slug",
        (tenant.slug, tenant.name, tenant.timezone, tenant.currency, Jsonb(tenant.model_dump(mode="json")),
         file_digest(tenant)),
    ).fetchone()  # fmt: skip
    if changed:
        changes.append("tenant record")
    wanted = channel_accounts(tenant)
    for row in wanted:
        owner = conn.execute(
            "SELECT tenant_slug FROM channel_accounts WHERE channel = %s AND account_id = %s",
            (row.channel, row.account_id),
        ).fetchone()
        if owner and owner[0] != tenant.slug:
            raise ChannelAccountTakenError(
                f"channels.{row.channel}: account {row.account_id} already belongs to tenant {owner[0]!r}"
            )
        if conn.execute(
            "INSERT INTO channel_accounts (tenant_slug, channel, account_id, agent_id, config)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (channel, account_id) DO UPDATE"
            " SET agent_id = EXCLUDED.agent_id, config = EXCLUDED.config"
            " WHERE (channel_accounts.agent_id, channel_accounts.config)"
            " IS DISTINCT FROM (EXCLUDED.agent_id, EXCLUDED.config) RETURNING id",
            (tenant.slug, row.channel, row.account_id, row.agent_id, Jsonb(row.config)),
        ).fetchone():
            changes.append(f"channel account {row.channel} {row.account_id}")
    removed = conn.execute(
        "DELETE FROM channel_accounts WHERE tenant_slug = %s AND channel || ':' || account_id <> ALL(%s::text[])"
        " RETURNING channel, account_id",
        (tenant.slug, [f"{r.channel}:{r.account_id}" for r in wanted]),
    ).fetchall()
    changes += [f"channel account {channel} {account} removed" for channel, account in removed]
    return changes


def _sync_agents(conn: Conn, tenant: TenantFile) -> list[str]:
    changes = []
    for agent in tenant.agents:
        if conn.execute(
            "INSERT INTO agents (id, name, emoji, model, model_by_channel, fallback_models)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
            " emoji = EXCLUDED.emoji, model = EXCLUDED.model, model_by_channel = EXCLUDED.model_by_channel,"
            " fallback_models = EXCLUDED.fallback_models, updated_at = now()"
            " WHERE (agents.name, agents.emoji, agents.model, agents.model_by_channel, agents.fallback_models)"
            " IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.emoji, EXCLUDED.model, EXCLUDED.model_by_channel,"
            " EXCLUDED.fallback_models) RETURNING id",
            (agent.id, agent.name, agent.emoji, agent.model, Jsonb(agent.model_by_channel),
             Jsonb(agent.fallback_models)),
        ).fetchone():  # fmt: skip
            changes.append(f"agent {agent.id}")
    return changes


def _sync_bindings(conn: Conn, tenant: TenantFile) -> list[str]:
    """One binding per channel account (account level); peer-level bindings are added at run time."""
    changes = []
    wanted = [(r.channel, r.account_id, r.agent_id) for r in channel_accounts(tenant) if r.agent_id]
    for channel, account_id, agent_id in wanted:
        if conn.execute(
            "INSERT INTO bindings (agent_id, channel, account_id, peer_id) VALUES (%s, %s, %s, NULL)"
            " ON CONFLICT (channel, account_id, peer_id) DO UPDATE SET agent_id = EXCLUDED.agent_id"
            " WHERE bindings.agent_id IS DISTINCT FROM EXCLUDED.agent_id RETURNING id",
            (agent_id, channel, account_id),
        ).fetchone():
            changes.append(f"binding {channel} {account_id} -> {agent_id}")
    removed = conn.execute(
        "DELETE FROM bindings WHERE peer_id IS NULL AND account_id IS NOT NULL"
        " AND channel || ':' || account_id <> ALL(%s::text[]) RETURNING channel, account_id",
        ([f"{c}:{a}" for c, a, _ in wanted],),
    ).fetchall()
    changes += [f"binding {channel} {account} removed" for channel, account in removed]
    return changes


def _seed_workspace(conn: Conn, tenant: TenantFile) -> list[str]:
    """Template-seeded files follow the tenant file; a file edited by a person or the agent is never overwritten."""
    changes = []
    for agent in tenant.agents:
        for name, content in render_workspace(tenant, agent).items():
            if conn.execute(
                "INSERT INTO workspace_files (agent_id, name, content, updated_by) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (agent_id, name) DO UPDATE SET content = EXCLUDED.content, updated_at = now()"
                " WHERE workspace_files.updated_by = %s AND workspace_files.content IS DISTINCT FROM EXCLUDED.content"
                " RETURNING name",
                (agent.id, name, content, SEEDED_BY, SEEDED_BY),
            ).fetchone():
                changes.append(f"workspace {agent.id}/{name}")
    return changes


def _sync_capi(conn: Conn, tenant: TenantFile) -> list[str]:
    capi = tenant.capi
    if capi is None:
        return []
    values = (capi.enabled, capi.dataset_id, capi.threshold, capi.events.l1, capi.events.l2, capi.events.l3,
              capi.test_event_code, capi.crm_events, tenant.currency)  # fmt: skip
    changed = conn.execute(
        "INSERT INTO capi_settings (id, enabled, dataset_id, threshold, event_l1, event_l2, event_l3,"
        " test_event_code, crm_enabled, currency) VALUES (1, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (id) DO UPDATE SET enabled = EXCLUDED.enabled, dataset_id = EXCLUDED.dataset_id,"
        " threshold = EXCLUDED.threshold, event_l1 = EXCLUDED.event_l1, event_l2 = EXCLUDED.event_l2,"
        " event_l3 = EXCLUDED.event_l3, test_event_code = EXCLUDED.test_event_code,"
        " crm_enabled = EXCLUDED.crm_enabled, currency = EXCLUDED.currency, updated_at = now()"
        " WHERE (capi_settings.enabled, capi_settings.dataset_id, capi_settings.threshold, capi_settings.event_l1,"
        " capi_settings.event_l2, capi_settings.event_l3, capi_settings.test_event_code, capi_settings.crm_enabled,"
        " capi_settings.currency) IS DISTINCT FROM (EXCLUDED.enabled, EXCLUDED.dataset_id, EXCLUDED.threshold,"
        " EXCLUDED.event_l1, EXCLUDED.event_l2, EXCLUDED.event_l3, EXCLUDED.test_event_code, EXCLUDED.crm_enabled,"
        " EXCLUDED.currency) RETURNING id",
        values,
    ).fetchone()
    return ["capi settings"] if changed else []


def default_account(tenant: str, channel: str, agent: str | None) -> str:
    """The account a message to `channel` goes out from when none is named: the first (of `agent`, if given)."""
    settings = cached_tenant(tenant)
    if channel == "webchat":
        return tenant
    if channel == "whatsapp" and settings.channels.whatsapp:
        return settings.channels.whatsapp[0].phone_number_id
    if channel == "messenger" and settings.channels.messenger:
        return settings.channels.messenger[0].page_id
    if channel == "instagram" and settings.channels.instagram:
        return settings.channels.instagram[0].ig_user_id
    bots = [b for b in settings.channels.telegram if agent is None or b.agent == agent]
    if channel == "telegram" and bots:
        return telegram_account_id(tenant, bots[0].agent)
    raise LookupError(f"tenant {tenant!r} has no {channel} account" + (f" for agent {agent!r}" if agent else ""))
