"""Fail: the Catch path of a turn. The turn is recorded as failed with the error (its inbound messages stay in
place for `clawgate turns replay`), the agent's fallback reply goes out where configured, the operator is told."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from clawgate.agent.data.turns import finish_turn, load_turn
from clawgate.agent.delivery import send_reply
from clawgate.core.channels import DeliveryError
from clawgate.db import tenant_tx
from clawgate.observability import bind, logger
from clawgate.tenancy.tenants import cached_tenant


class FailInput(BaseModel):
    tenant: str
    turn_id: int
    error: dict[str, Any] = {}


def fail(step: FailInput) -> dict[str, Any]:
    from clawgate.core.notify import notify_operator

    bind(tenant=step.tenant, turn=step.turn_id)
    summary = f"{step.error.get('Error', 'Error')}: {str(step.error.get('Cause', ''))[:500]}"
    with tenant_tx(step.tenant) as conn:
        turn = load_turn(conn, step.turn_id)
        fallback = cached_tenant(step.tenant).agent(turn.agent_id).fallback_reply
        finish_turn(conn, turn.id, "failed", reply=fallback, error=summary)
    logger.error("turn failed", extra={"error": summary})
    if fallback:
        try:
            send_reply(step.tenant, turn, fallback, key=f"fallback:{turn.id}")
        except DeliveryError:
            logger.exception("fallback reply not delivered")
    notify_operator(step.tenant, f"Turn {turn.id} ({turn.channel} {turn.peer_id}) failed: {summary}")
    return {"status": "failed"}
