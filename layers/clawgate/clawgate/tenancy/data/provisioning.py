"""What `clawgate tenants apply` writes into a tenant's schema: agents, account-level bindings, template-seeded
workspace files and CAPI settings. Every write is an upsert guarded by IS DISTINCT FROM and says whether it changed
anything, so applying the same file twice changes nothing and reports nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


@dataclass(frozen=True)
class AgentRow:
    id: str
    name: str
    emoji: str | None
    model: str
    model_by_channel: Mapping[str, str]
    fallback_models: Sequence[str]


@dataclass(frozen=True)
class AccountBinding:
    channel: str
    account_id: str
    agent_id: str


@dataclass(frozen=True)
class BoundAccount:
    channel: str
    account_id: str


@dataclass(frozen=True)
class CapiRow:
    enabled: bool
    dataset_id: str
    threshold: int
    event_l1: str
    event_l2: str
    event_l3: str
    test_event_code: str | None
    crm_enabled: bool
    currency: str


def upsert_agent(conn: Conn, agent: AgentRow) -> bool:
    by_channel, fallbacks = Jsonb(dict(agent.model_by_channel)), Jsonb(list(agent.fallback_models))
    values = {**vars(agent), "model_by_channel": by_channel, "fallback_models": fallbacks}
    return (
        conn.execute(
            "INSERT INTO agents (id, name, emoji, model, model_by_channel, fallback_models)"
            " VALUES (%(id)s, %(name)s, %(emoji)s, %(model)s, %(model_by_channel)s, %(fallback_models)s)"
            " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
            " emoji = EXCLUDED.emoji, model = EXCLUDED.model, model_by_channel = EXCLUDED.model_by_channel,"
            " fallback_models = EXCLUDED.fallback_models, updated_at = now()"
            " WHERE (agents.name, agents.emoji, agents.model, agents.model_by_channel, agents.fallback_models)"
            " IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.emoji, EXCLUDED.model, EXCLUDED.model_by_channel,"
            " EXCLUDED.fallback_models) RETURNING id",
            values,
        ).fetchone()
        is not None
    )


def upsert_account_binding(conn: Conn, binding: AccountBinding) -> bool:
    """An account-level binding (no peer): every conversation of the account goes to its agent."""
    return (
        conn.execute(
            "INSERT INTO bindings (agent_id, channel, account_id, peer_id) VALUES (%s, %s, %s, NULL)"
            " ON CONFLICT (channel, account_id, peer_id) DO UPDATE SET agent_id = EXCLUDED.agent_id"
            " WHERE bindings.agent_id IS DISTINCT FROM EXCLUDED.agent_id RETURNING id",
            (binding.agent_id, binding.channel, binding.account_id),
        ).fetchone()
        is not None
    )


def remove_account_bindings_except(conn: Conn, keep: list[AccountBinding]) -> list[BoundAccount]:
    """Account-level bindings of accounts no longer in the file go (peer-level ones, added at run time, stay)."""
    return (
        conn.cursor(row_factory=class_row(BoundAccount))
        .execute(
            "DELETE FROM bindings WHERE peer_id IS NULL AND account_id IS NOT NULL"
            " AND channel || ':' || account_id <> ALL(%s::text[]) RETURNING channel, account_id",
            ([f"{b.channel}:{b.account_id}" for b in keep],),
        )
        .fetchall()
    )


def seed_workspace_file(conn: Conn, agent_id: str, name: str, content: str, seeded_by: str) -> bool:
    """Write a template-seeded file unless a person or the agent has edited it (its `updated_by` is not
    `seeded_by`); True when it was written."""
    return (
        conn.execute(
            "INSERT INTO workspace_files (agent_id, name, content, updated_by) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (agent_id, name) DO UPDATE SET content = EXCLUDED.content, updated_at = now()"
            " WHERE workspace_files.updated_by = %s AND workspace_files.content IS DISTINCT FROM EXCLUDED.content"
            " RETURNING name",
            (agent_id, name, content, seeded_by, seeded_by),
        ).fetchone()
        is not None
    )


def upsert_capi_settings(conn: Conn, capi: CapiRow) -> bool:
    values: dict[str, Any] = vars(capi)
    return (
        conn.execute(
            "INSERT INTO capi_settings (id, enabled, dataset_id, threshold, event_l1, event_l2, event_l3,"
            " test_event_code, crm_enabled, currency) VALUES (1, %(enabled)s, %(dataset_id)s, %(threshold)s,"
            " %(event_l1)s, %(event_l2)s, %(event_l3)s, %(test_event_code)s, %(crm_enabled)s, %(currency)s)"
            " ON CONFLICT (id) DO UPDATE SET enabled = EXCLUDED.enabled, dataset_id = EXCLUDED.dataset_id,"
            " threshold = EXCLUDED.threshold, event_l1 = EXCLUDED.event_l1, event_l2 = EXCLUDED.event_l2,"
            " event_l3 = EXCLUDED.event_l3, test_event_code = EXCLUDED.test_event_code,"
            " crm_enabled = EXCLUDED.crm_enabled, currency = EXCLUDED.currency, updated_at = now()"
            " WHERE (capi_settings.enabled, capi_settings.dataset_id, capi_settings.threshold, capi_settings.event_l1,"
            " capi_settings.event_l2, capi_settings.event_l3, capi_settings.test_event_code,"
            " capi_settings.crm_enabled, capi_settings.currency) IS DISTINCT FROM (EXCLUDED.enabled,"
            " EXCLUDED.dataset_id, EXCLUDED.threshold, EXCLUDED.event_l1, EXCLUDED.event_l2, EXCLUDED.event_l3,"
            " EXCLUDED.test_event_code, EXCLUDED.crm_enabled, EXCLUDED.currency) RETURNING id",
            values,
        ).fetchone()
        is not None
    )
