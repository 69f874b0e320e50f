"""Run one agent turn synchronously (n8n, a CRM: `POST /api/v1/tenants/{tenant}/agents/{agent}/run`, served by the
operator API's resolver in the `agent_run` function) and answer with the reply. An `Idempotency-Key` header makes a
retried request return the same turn."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from clawgate.agent import turns
from clawgate.core import ports
from clawgate.db import tenant_tx
from clawgate.observability import bind
from clawgate.tenancy.registry import cached_tenant


class RunBody(BaseModel):
    message: str = Field(min_length=1, max_length=32_000)
    session: str | None = Field(default=None, max_length=200, description="a stable id: the CRM lead, the n8n flow…")
    sender_name: str | None = None


def run_turn(slug: str, agent_id: str, body: RunBody, request_id: str) -> dict[str, Any]:
    """Run one turn through the AgentTurn workflow and wait for it; the same `request_id` returns the same turn.
    The caller has checked the token (the operator API's bearer middleware)."""
    bind(tenant=slug)
    if agent_id not in {agent.id for agent in cached_tenant(slug).agents}:
        raise LookupError(f"no agent {agent_id!r}")
    run = {"source": "api", "tenant": slug, "agent": agent_id, "text": body.message, "peer": body.session or "api",
           "request_id": request_id, "sender_name": body.sender_name}  # fmt: skip
    ports.workflows().run("agent_turn", run)
    return turn_result(slug, request_id)


def turn_result(slug: str, request_id: str) -> dict[str, Any]:
    with tenant_tx(slug, "ro") as conn:
        return turns.result_of_request(conn, request_id)
