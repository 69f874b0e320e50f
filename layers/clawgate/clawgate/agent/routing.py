"""Bindings route (channel, account, peer) to an agent: the most specific binding wins (peer > account >
channel > the tenant's default binding), else the tenant's first agent."""

from __future__ import annotations

from clawgate.db import Conn
from clawgate.tenancy.model import TenantFile


def resolve_agent(conn: Conn, tenant: TenantFile, channel: str, account_id: str | None, peer_id: str | None) -> str:
    row = conn.execute(
        "SELECT agent_id FROM bindings"
        " WHERE (channel IS NULL OR channel = %s) AND (account_id IS NULL OR account_id = %s)"
        " AND (peer_id IS NULL OR peer_id = %s)"
        " ORDER BY (peer_id IS NOT NULL) DESC, (account_id IS NOT NULL) DESC, (channel IS NOT NULL) DESC,"
        " priority DESC, id LIMIT 1",
        (channel, account_id, peer_id),
    ).fetchone()
    return str(row[0]) if row else tenant.agents[0].id
