"""RunTools: one tool call (a Map iteration), re-checked against the policy, run under the tenant's role. Every
outcome — result, refusal, bad arguments, failure — becomes a tool_result the model reads; nothing here fails the
turn, and a retried iteration does not run a finished call again."""

from __future__ import annotations

import json
from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel, ValidationError

from clawgate.agent.sessions import append
from clawgate.agent.tools import ToolContext, ToolFailure, ToolRefused, channel_profile, check_call
from clawgate.agent.turns import TURN_COLUMNS
from clawgate.core.turns import Turn
from clawgate.db import tenant_tx
from clawgate.observability import bind, count, logger
from clawgate.tenancy.registry import cached_tenant

RESULT_CHARS = 16_000


class ToolStepInput(BaseModel):
    tenant: str
    turn_id: int
    tool_use_id: str


def run_tool(step: ToolStepInput) -> dict[str, Any]:
    bind(tenant=step.tenant, turn=step.turn_id)
    with tenant_tx(step.tenant, pipeline=True) as conn:
        claimed = conn.execute(
            f"UPDATE tool_calls c SET started_at = now() FROM turns t WHERE t.id = c.turn_id AND c.turn_id = %s"
            f" AND c.tool_use_id = %s AND c.status = 'pending' RETURNING c.name, c.arguments,"
            f" {', '.join('t.' + column for column in TURN_COLUMNS.split(', '))}",
            (step.turn_id, step.tool_use_id),
        ).fetchone()
    if claimed is None:
        return {"status": "already done"}
    name, arguments, turn = claimed[0], claimed[1], Turn(*claimed[2:])
    tool_use_id = step.tool_use_id
    profile = channel_profile(turn.channel, turn.context.get("account_config"))
    context = ToolContext(step.tenant, turn.agent_id, turn.channel, turn.account_id, turn.peer_id, turn.id,
                          turn.session_id, profile)  # fmt: skip
    status, result = execute(context, name, arguments)
    count(f"ToolCalls{status.title()}")
    text = result if isinstance(result, str) else json.dumps(result, default=str)
    with tenant_tx(step.tenant, pipeline=True) as conn:
        conn.execute(
            "UPDATE tool_calls SET status = %s, result = %s, error = %s, finished_at = now()"
            " WHERE turn_id = %s AND tool_use_id = %s",
            (status, Jsonb(result), text if status != "ok" else None, turn.id, tool_use_id),
        )
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
