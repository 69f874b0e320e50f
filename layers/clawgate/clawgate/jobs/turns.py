"""A scheduled agent turn started by a job (the creative-test analysis, the heartbeat): an AgentTurn with
`source = schedule`, run synchronously through the agent_turn workflow. It never starts when the tenant's daily
model budget is spent (and Ingest skips scheduled turns then, too)."""

from __future__ import annotations

from dataclasses import dataclass

from clawgate.agent.data.usage import spent_today
from clawgate.agent.ingest import RunRequest
from clawgate.agent.run_api import turn_result
from clawgate.core import ports
from clawgate.db import tenant_tx
from clawgate.tenancy.tenants import cached_tenant


@dataclass(frozen=True)
class TurnOutcome:
    status: str  # succeeded | failed | budget_exceeded | ...
    reply: str | None = None
    turn_id: int | None = None


def budget_left(slug: str) -> bool:
    tenant = cached_tenant(slug)
    with tenant_tx(slug, "ro") as conn:
        return float(spent_today(conn, tenant.timezone)) < tenant.budget.daily_usd


def scheduled_turn(slug: str, agent_id: str, peer: str, text: str, request_id: str) -> TurnOutcome:
    """Run one turn (once per `request_id`) and return its outcome; `budget_exceeded` without running when spent."""
    if not budget_left(slug):
        return TurnOutcome("budget_exceeded")
    run = RunRequest(source="schedule", tenant=slug, agent=agent_id, text=text, peer=peer, request_id=request_id)
    ports.workflows().run("agent_turn", run.model_dump())
    result = turn_result(slug, request_id)
    return TurnOutcome(str(result.get("status")), result.get("reply"), result.get("turn_id"))
