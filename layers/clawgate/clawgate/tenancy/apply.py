"""`clawgate tenants apply`: schema, roles, migrations, registry rows, agents, bindings, workspace seed and CAPI
settings, from one tenant file. Every write is an upsert guarded by IS DISTINCT FROM, so applying the same file twice
changes nothing and reports nothing; an edited file updates exactly what changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from clawgate.db import Conn, owner_tx
from clawgate.db.migrate import ensure_platform, provision_tenant
from clawgate.db.names import tenant_schema
from clawgate.tenancy.data import provisioning, registry
from clawgate.tenancy.data.registry import ChannelAccount
from clawgate.tenancy.model import TenantFile
from clawgate.tenancy.tenants import cached_tenant, forget_cached_tenants
from clawgate.tenancy.workspace import SEEDED_BY, render_workspace


class ChannelAccountTakenError(ValueError):
    pass


@dataclass
class ApplyResult:
    slug: str
    changes: list[str] = field(default_factory=list)


def channel_accounts(tenant: TenantFile) -> list[ChannelAccount]:
    """The registry's rows for the tenant file: each channel account under each id its updates route on (its config
    is the account without `agent`: a WhatsApp account keeps its phone_number_id, `send_text` needs it), the Page
    whose Lead Ads notices are the tenant's, and the control UI's chat."""
    rows = [
        ChannelAccount(tenant.slug, channel, account_id, account.agent, account.model_dump(exclude={"agent"}))
        for channel, account in tenant.channels.accounts()
        for account_id in account.routing_ids(tenant.slug)
    ]
    if tenant.meta and tenant.meta.page_id:
        page = {"access_token": tenant.meta.access_token}
        rows.append(ChannelAccount(tenant.slug, "meta_page", tenant.meta.page_id, None, page))
    rows.append(ChannelAccount(tenant.slug, "webchat", tenant.slug, None, {"tenant": tenant.slug}))
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
    config = tenant.model_dump(mode="json")
    if registry.upsert_tenant(conn, tenant.slug, tenant.name, tenant.timezone, tenant.currency, config,
                              file_digest(tenant)):  # fmt: skip
        changes.append("tenant record")
    wanted = channel_accounts(tenant)
    for account in wanted:
        owner = registry.account_owner(conn, account.channel, account.account_id)
        if owner and owner != tenant.slug:
            raise ChannelAccountTakenError(
                f"channels.{account.channel}: account {account.account_id} already belongs to tenant {owner!r}"
            )
        if registry.upsert_channel_account(conn, account):
            changes.append(f"channel account {account.channel} {account.account_id}")
    keep = [registry.AccountKey(a.channel, a.account_id) for a in wanted]
    removed = registry.remove_channel_accounts_except(conn, tenant.slug, keep)
    changes += [f"channel account {key.channel} {key.account_id} removed" for key in removed]
    return changes


def _sync_agents(conn: Conn, tenant: TenantFile) -> list[str]:
    rows = [
        provisioning.AgentRow(
            a.id, a.name, a.emoji, a.model, {str(c): m for c, m in a.model_by_channel.items()}, a.fallback_models
        )
        for a in tenant.agents
    ]
    return [f"agent {row.id}" for row in rows if provisioning.upsert_agent(conn, row)]


def _sync_bindings(conn: Conn, tenant: TenantFile) -> list[str]:
    """One binding per channel account (account level); peer-level bindings are added at run time."""
    wanted = [
        provisioning.AccountBinding(a.channel, a.account_id, a.agent_id) for a in channel_accounts(tenant) if a.agent_id
    ]
    changes = [
        f"binding {b.channel} {b.account_id} -> {b.agent_id}"
        for b in wanted
        if provisioning.upsert_account_binding(conn, b)
    ]
    removed = provisioning.remove_account_bindings_except(conn, wanted)
    return changes + [f"binding {b.channel} {b.account_id} removed" for b in removed]


def _seed_workspace(conn: Conn, tenant: TenantFile) -> list[str]:
    """Template-seeded files follow the tenant file; a file edited by a person or the agent is never overwritten."""
    return [
        f"workspace {agent.id}/{name}"
        for agent in tenant.agents
        for name, content in render_workspace(tenant, agent).items()
        if provisioning.seed_workspace_file(conn, agent.id, name, content, SEEDED_BY)
    ]


def _sync_capi(conn: Conn, tenant: TenantFile) -> list[str]:
    capi = tenant.capi
    if capi is None:
        return []
    row = provisioning.CapiRow(
        enabled=capi.enabled, dataset_id=capi.dataset_id, threshold=capi.threshold, event_l1=capi.events.l1,
        event_l2=capi.events.l2, event_l3=capi.events.l3, test_event_code=capi.test_event_code,
        crm_enabled=capi.crm_events, currency=tenant.currency,
    )  # fmt: skip
    return ["capi settings"] if provisioning.upsert_capi_settings(conn, row) else []


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
        return bots[0].routing_ids(tenant)[0]
    raise LookupError(f"tenant {tenant!r} has no {channel} account" + (f" for agent {agent!r}" if agent else ""))
