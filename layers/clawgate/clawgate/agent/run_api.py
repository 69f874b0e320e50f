"""Run one agent turn (n8n, a CRM: `POST /api/v1/tenants/{tenant}/agents/{agent}/run`, served by the operator API's
resolver in the `agent_run` function) and answer with the reply. An `Idempotency-Key` header makes a retried request
return the same turn.

API Gateway gives the function at most 29 s, and a turn may take minutes (tools, a slow model). So the turn is
started, not waited on: the answer is 200 with the reply when the turn ends within WAIT_S, else 202 with the turn's
`result_url`, which `GET /api/v1/tenants/{tenant}/agents/{agent}/runs/{request}` answers (200 when finished, 202
while running, 404 unknown)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from clawgate.agent.data import turns
from clawgate.core import ports
from clawgate.db import tenant_tx
from clawgate.observability import bind
from clawgate.tenancy.tenants import cached_tenant

WAIT_S = 20.0  # then 202: well inside the function's 28 s and API Gateway's 29 s
FINISHED = frozenset({"succeeded", "failed", "budget_exceeded"})


class RunBody(BaseModel):
    message: str = Field(min_length=1, max_length=32_000)
    session: str | None = Field(default=None, max_length=200, description="a stable id: the CRM lead, the n8n flow…")
    sender_name: str | None = None


def run_turn(slug: str, agent_id: str, body: RunBody, request_id: str) -> tuple[int, dict[str, Any]]:
    """Start one turn through the AgentTurn workflow and wait for it at most WAIT_S: (200 or 202, the answer).
    The same `request_id` returns the same turn. The caller has checked the token (the bearer middleware)."""
    _check_agent(slug, agent_id)
    run = {"source": "api", "tenant": slug, "agent": agent_id, "text": body.message, "peer": body.session or "api",
           "request_id": request_id, "sender_name": body.sender_name}  # fmt: skip
    execution = ports.workflows().start("agent_turn", run)
    return _answer(slug, agent_id, request_id, wait_s=WAIT_S, execution=execution)


def run_status(slug: str, agent_id: str, request_id: str) -> tuple[int, dict[str, Any]]:
    """The answer to `GET …/runs/{request}`: 200 finished, 202 running; an unknown request is a LookupError."""
    _check_agent(slug, agent_id)
    if turn_result(slug, request_id)["status"] == "unknown":
        raise LookupError(f"no run {request_id!r}")
    return _answer(slug, agent_id, request_id, wait_s=0.0)


def result_url(slug: str, agent_id: str, request_id: str) -> str:
    return f"/api/v1/tenants/{slug}/agents/{agent_id}/runs/{request_id}"


def _check_agent(slug: str, agent_id: str) -> None:
    bind(tenant=slug)
    if agent_id not in {agent.id for agent in cached_tenant(slug).agents}:
        raise LookupError(f"no agent {agent_id!r}")


def _answer(
    slug: str, agent_id: str, request_id: str, *, wait_s: float, execution: ports.Execution | None = None
) -> tuple[int, dict[str, Any]]:
    result = wait_for_result(slug, request_id, wait_s=wait_s, execution=execution)
    if result["status"] in FINISHED:
        return 200, result
    url = result_url(slug, agent_id, request_id)
    return 202, {**result, "status": "running", "request_id": request_id, "result_url": url}


def wait_for_result(
    slug: str, request_id: str, *, wait_s: float, execution: ports.Execution | None = None
) -> dict[str, Any]:
    """The request's turn result once its status is in FINISHED, or as it stands after `wait_s`. The result is
    read again after each pause, or as soon as the execution that was started for it ends, when the runner can
    tell (the local runtime can; in AWS the pauses are plain sleeps). An execution may end without finishing this
    request's turn (a retried request whose first execution still runs it): then the pauses are sleeps again."""
    deadline, pause, watching = time.monotonic() + wait_s, 0.05, execution or ports.Unwatched()
    result = turn_result(slug, request_id)
    while result["status"] not in FINISHED and (remaining := deadline - time.monotonic()) > 0:
        if watching.wait(min(pause, remaining)):
            watching = ports.Unwatched()
        pause = min(pause * 2, 0.5)
        result = turn_result(slug, request_id)
    return result


def turn_result(slug: str, request_id: str) -> dict[str, Any]:
    with tenant_tx(slug, "ro") as conn:
        return turns.result_of_request(conn, request_id)
