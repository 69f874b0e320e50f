"""RunTools: one tool call (a Map iteration), re-checked against the policy, run under the tenant's role. Every
outcome — result, refusal, bad arguments, failure — becomes a tool_result the model reads; nothing here fails the
turn, and a retried iteration does not run a finished call again."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from clawgate.agent.data import turns
from clawgate.agent.data.sessions import append
from clawgate.agent.tools import ToolContext, ToolFailure, ToolRefused, channel_profile, check_call
from clawgate.db import tenant_tx
from clawgate.observability import bind, count, logger
from clawgate.tenancy.tenants import cached_tenant

RESULT_CHARS = 16_000


class ToolStepInput(BaseModel):
    tenant: str
    turn_id: int
    tool_use_id: str


def run_tool(step: ToolStepInput) -> dict[str, Any]:
    bind(tenant=step.tenant, turn=step.turn_id)
    with tenant_tx(step.tenant, pipeline=True) as conn:
        claimed = turns.claim_tool_call(conn, step.turn_id, step.tool_use_id)
    if claimed is None:
        return {"status": "already done"}
    name, arguments, turn = claimed.name, claimed.arguments, claimed.turn
    tool_use_id = step.tool_use_id
    profile = channel_profile(turn.channel, turn.context.get("account_config"))
    context = ToolContext(step.tenant, turn.agent_id, turn.channel, turn.account_id, turn.peer_id, turn.id,
                          turn.session_id, profile)  # fmt: skip
    status, result = execute(context, name, arguments)
    count(f"ToolCalls{status.title()}")
    text = result if isinstance(result, str) else json.dumps(result, default=str)
    with tenant_tx(step.tenant, pipeline=True) as conn:
        turns.finish_tool_call(conn, turn.id, tool_use_id, status, result, text if status != "ok" else None)
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": text[:RESULT_CHARS]}
        if status != "ok":
            block["is_error"] = True
        append(conn, turn.session_id, turn.id, "tool_result", [block])
    return {"status": status}


def execute(context: ToolContext, name: str, arguments: dict[str, Any]) -> tuple[str, Any]:
    agent = cached_tenant(context.tenant).agent(context.agent_id)
    try:
        tool = check_call(name, agent, context.channel, context.profile)
    except ToolRefused as refused:
        logger.warning("tool refused", extra={"tool": name, "channel": context.channel, "profile": context.profile})
        return "refused", f"refused: {refused}"
    try:
        return "ok", tool.run(context, tool.args.model_validate(arguments))
    except ValidationError as error:
        return "error", f"invalid arguments for {name}: {error.errors()[0]['msg']} at {error.errors()[0]['loc']}"
    except ToolFailure as failure:
        return "error", str(failure)
    except Exception:
        logger.exception("tool failed", extra={"tool": name})
        return "error", f"{name} failed unexpectedly; the error was logged"
