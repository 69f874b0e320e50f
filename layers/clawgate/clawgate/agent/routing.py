"""Bindings route (channel, account, peer) to an agent: the most specific binding wins (peer > account >
channel > the tenant's default binding), else the tenant's first agent."""

from __future__ import annotations

from clawgate.agent.data.bindings import bound_agent
from clawgate.db import Conn
from clawgate.tenancy.model import TenantFile


def resolve_agent(conn: Conn, tenant: TenantFile, channel: str, account_id: str | None, peer_id: str | None) -> str:
    return bound_agent(conn, channel, account_id, peer_id) or tenant.agents[0].id
