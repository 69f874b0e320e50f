"""`POST /api/v1/tenants/{tenant}/agents/{agent}/run`: run one agent turn synchronously (n8n, a CRM) and answer
with the reply. Bearer gateway token; an `Idempotency-Key` header makes a retried request return the same turn."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from clawgate import http
from clawgate.core import ports
from clawgate.db import tenant_tx
from clawgate.observability import bind
from clawgate.tenancy.registry import cached_tenant
from clawgate.tenancy.tokens import token_tenant


class RunBody(BaseModel):
    message: str = Field(min_length=1, max_length=32_000)
    session: str | None = Field(default=None, max_length=200, description="a stable id: the CRM lead, the n8n flow…")
    sender_name: str | None = None


def handle(event: dict[str, Any]) -> dict[str, Any]:
    path = event.get("pathParameters") or {}
    slug, agent_id = path.get("tenant", ""), path.get("agent", "")
    authorization = http.header(event, "authorization") or ""
    owner = token_tenant(authorization.removeprefix("Bearer ").strip())
    if owner is None:
        return http.json_response(401, {"error": "unauthorized", "message": "a valid gateway token is required"})
    if owner != slug:
        return http.json_response(403, {"error": "forbidden", "message": "this token is not for that tenant"})
    bind(tenant=slug)
    tenant = cached_tenant(slug)
    if agent_id not in {agent.id for agent in tenant.agents}:
        return http.json_response(404, {"error": "not_found", "message": f"no agent {agent_id!r}"})
    try:
        body = RunBody.model_validate_json(http.raw_body(event) or b"{}")
    except ValidationError as error:
        return http.json_response(400, {"error": "bad_request", "message": error.errors()[0]["msg"],
                                        "field": ".".join(map(str, error.errors()[0]["loc"]))})  # fmt: skip
    request_id = http.header(event, "idempotency-key") or str(uuid.uuid4())
    run = {"source": "api", "tenant": slug, "agent": agent_id, "text": body.message, "peer": body.session or "api",
           "request_id": request_id, "sender_name": body.sender_name}  # fmt: skip
    ports.workflows().run("agent_turn", run)
    return http.json_response(200, turn_result(slug, request_id))


def turn_result(slug: str, request_id: str) -> dict[str, Any]:
    with tenant_tx(slug, "ro") as conn:
        row = conn.execute(
            "SELECT id, status, reply_text, error FROM turns WHERE request_id = %s", (request_id,)
        ).fetchone()
    if row is None:
        return {"status": "unknown", "reply": None}
    turn_id, status, reply, error = row
    return {"turn_id": turn_id, "status": status, "reply": reply, **({"error": error} if error else {})}
