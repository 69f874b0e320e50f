"""The OpenAI-compatible chat API: `POST /v1/chat/completions` and `GET /v1/models`, so n8n's OpenAI nodes, the
`openai` SDK, scripts and IDE plugins can talk to a tenant's agents unchanged.

The tenant's gateway token is the API key; `model` is an agent id of that tenant. The last user message is the
turn's input; `X-Session-Id` (or the body's `user`) names the session, which keeps the transcript server-side like
every other channel. Without one, each request is a session of its own and the earlier messages the client sent are
given to the agent as context. The turn runs through the same AgentTurn workflow, budget and operator tool policy as
the run API (channel `api`). Errors have OpenAI's shape, `{"error": {"message", "type", "code"}}`.

`stream: true` answers `text/event-stream` with `chat.completion.chunk` events ending in `data: [DONE]`. API Gateway
HTTP APIs buffer a Lambda's response, so the events arrive together once the turn has finished; clients parse them as
a stream all the same.

API Gateway cuts the integration at 30 s and a turn may take minutes, so, as the run API does, the turn is started and
waited on at most `run_api.WAIT_S`. A turn still running then is answered in OpenAI's error shape (504, type and code
`timeout`; streamed: an error event, then `[DONE]`) naming the run API's result URL for it; the turn goes on and its
reply is kept in the session, so the client reads it there or carries on in the same session.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clawgate.agent import run_api
from clawgate.core import ports
from clawgate.core.http import HttpRequest, HttpResponse, json_response
from clawgate.db import tenant_tx
from clawgate.gateway.data.usage import TurnTokens, turn_tokens
from clawgate.observability import bind, count
from clawgate.tenancy.tenants import cached_tenant
from clawgate.tenancy.tokens import bearer_tenant

MAX_CONTEXT_CHARS = 24_000  # earlier messages passed on for a request without a session


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(part.text for part in self.content if part.type == "text" and part.text)
        return self.content or ""


class ChatRequest(BaseModel):
    """What we read of a chat completion request; sampling parameters and tools are the agent's own, so ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str = Field(min_length=1, max_length=100)
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: bool = False
    user: str | None = Field(default=None, max_length=200)
    stream_options: dict[str, Any] | None = None


class OpenAIError(Exception):
    def __init__(self, status: int, message: str, kind: str, code: str | None = None, param: str | None = None,
                 **extra: Any):  # fmt: skip
        super().__init__(message)
        self.status, self.kind, self.code, self.param, self.extra = status, kind, code, param, extra

    def body(self) -> dict[str, Any]:
        error = {"message": str(self), "type": self.kind, "param": self.param, "code": self.code}
        return {"error": {**error, **self.extra}}

    def response(self) -> HttpResponse:
        # x-should-retry: the SDKs retry 408/429/5xx by themselves; a timed-out turn retried would run twice.
        headers = {"x-should-retry": "false"} if self.status == 504 else {}
        return HttpResponse(self.status, json.dumps(self.body()), "application/json", headers)


def receive(request: HttpRequest) -> HttpResponse:
    try:
        slug = _authenticate(request)
        if request.method == "GET":
            return json_response(200, list_models(slug))
        return chat_completion(slug, request)
    except OpenAIError as error:
        return error.response()


def _authenticate(request: HttpRequest) -> str:
    check = bearer_tenant(request.header("authorization") or "", request.source_ip or "unknown", "openai api")
    if check.throttled:
        raise OpenAIError(429, "Too many failed authentications from this address; try later.", "rate_limit_error",
                          "rate_limited")  # fmt: skip
    if check.tenant is None:
        raise OpenAIError(401, "Incorrect API key provided: use a Clawgate gateway token of the tenant.",
                          "invalid_request_error", "invalid_api_key")  # fmt: skip
    bind(tenant=check.tenant)
    return check.tenant


def list_models(slug: str) -> dict[str, Any]:
    tenant = cached_tenant(slug)
    created = int(time.time())
    data = [{"id": agent.id, "object": "model", "created": created, "owned_by": slug} for agent in tenant.agents]
    return {"object": "list", "data": data}


def _parse(request: HttpRequest) -> ChatRequest:
    try:
        return ChatRequest.model_validate_json(request.body or b"{}")
    except ValidationError as error:
        problem = error.errors()[0]
        field = ".".join(map(str, problem["loc"]))
        raise OpenAIError(400, f"{field}: {problem['msg']}" if field else problem["msg"], "invalid_request_error",
                          "invalid_request", field or None) from None  # fmt: skip


def chat_completion(slug: str, http_request: HttpRequest) -> HttpResponse:
    request = _parse(http_request)
    if request.model not in {agent.id for agent in cached_tenant(slug).agents}:
        raise OpenAIError(404, f"The model `{request.model}` does not exist: use one of GET /v1/models.",
                          "invalid_request_error", "model_not_found", "model")  # fmt: skip
    session = http_request.header("x-session-id") or request.user
    text = _input_text(request, with_context=not session)
    if session is not None and not 0 < len(session) <= 200:
        raise OpenAIError(400, "X-Session-Id must be 1 to 200 characters.", "invalid_request_error", "invalid_request")
    request_id = "openai:" + (http_request.header("idempotency-key") or uuid.uuid4().hex)
    run = {"source": "api", "tenant": slug, "agent": request.model, "text": text, "request_id": request_id,
           "peer": session or f"openai:{uuid.uuid4().hex}", "sender_name": None}  # fmt: skip
    count("OpenAIChatCompletions")
    execution = ports.workflows().start("agent_turn", run)
    result = run_api.wait_for_result(slug, request_id, wait_s=run_api.WAIT_S, execution=execution)
    try:
        reply = _reply_or_error(result, slug, request.model, request_id, session)
    except OpenAIError as error:
        if request.stream and error.code == "timeout":
            return _stream_error(error)
        raise
    usage = _usage(slug, result.get("turn_id"))
    completion_id = f"chatcmpl-{result.get('turn_id', 0)}-{request_id.rsplit(':', 1)[-1][:12]}"
    if request.stream:
        include_usage = bool((request.stream_options or {}).get("include_usage"))
        return _stream(completion_id, request.model, reply, usage if include_usage else None)
    return json_response(200, _completion(completion_id, request.model, reply, usage))


def _input_text(request: ChatRequest, *, with_context: bool) -> str:
    users = [i for i, m in enumerate(request.messages) if m.role == "user" and m.text().strip()]
    if not users:
        raise OpenAIError(400, "messages: at least one user message with text is required.", "invalid_request_error",
                          "invalid_request", "messages")  # fmt: skip
    last = request.messages[users[-1]].text()
    earlier = [m for m in request.messages[: users[-1]] if m.role in ("user", "assistant") and m.text().strip()]
    if not with_context or not earlier:
        return last
    lines = [f"{m.role}: {m.text()}" for m in earlier]
    context = "\n".join(lines)[-MAX_CONTEXT_CHARS:]
    return f"[Earlier in this conversation]\n{context}\n\n[Now]\n{last}"


def _reply_or_error(result: dict[str, Any], slug: str, agent: str, request_id: str, session: str | None) -> str:
    status = result.get("status")
    if status not in run_api.FINISHED:
        raise _timeout(slug, agent, request_id, session)
    if status == "succeeded":
        return str(result.get("reply") or "")
    if status == "budget_exceeded":
        raise OpenAIError(429, str(result.get("reply") or "The daily budget is spent."), "insufficient_quota",
                          "insufficient_quota")  # fmt: skip
    raise OpenAIError(500, f"The agent's turn did not finish ({status}).", "server_error", "turn_failed")


def _timeout(slug: str, agent: str, request_id: str, session: str | None) -> OpenAIError:
    url = run_api.result_url(slug, agent, request_id)
    where = f"session {session!r} keeps its reply, so a retry in that session continues after it" if session else (
        "send X-Session-Id (or `user`) to keep a conversation across requests")  # fmt: skip
    message = (f"The agent's turn is still running after {run_api.WAIT_S:g} s. It goes on: GET {url} with the same "
               f"token answers 200 with the reply once it has finished (202 while it runs); {where}.")  # fmt: skip
    count("OpenAIChatCompletionsTimedOut")
    return OpenAIError(504, message, "timeout", "timeout", request_id=request_id, result_url=url)


def _usage(slug: str, turn_id: int | None) -> dict[str, int]:
    tokens = TurnTokens()
    if turn_id is not None:
        with tenant_tx(slug, "ro") as conn:
            tokens = turn_tokens(conn, turn_id)
    return {**tokens.model_dump(), "total_tokens": tokens.prompt_tokens + tokens.completion_tokens}


def _completion(completion_id: str, model: str, reply: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop", "logprobs": None}
        ],
        "usage": usage,
    }


def _stream(completion_id: str, model: str, reply: str, usage: dict[str, int] | None) -> HttpResponse:
    created = int(time.time())

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": choices, **extra}  # fmt: skip
        return f"data: {json.dumps(body)}\n\n"

    def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "finish_reason": finish}]

    events = [chunk(choice({"role": "assistant", "content": ""})), chunk(choice({"content": reply})),
              chunk(choice({}, "stop"))]  # fmt: skip
    if usage is not None:  # stream_options.include_usage: one more chunk, with the usage and no choices
        events.append(chunk([], usage=usage))
    events.append("data: [DONE]\n\n")
    return HttpResponse(200, "".join(events), "text/event-stream; charset=utf-8", {"cache-control": "no-cache"})


def _stream_error(error: OpenAIError) -> HttpResponse:
    """OpenAI's streaming error: a `data:` event whose JSON is `{"error": {...}}`, then `[DONE]`."""
    events = f"data: {json.dumps(error.body())}\n\ndata: [DONE]\n\n"
    return HttpResponse(200, events, "text/event-stream; charset=utf-8", {"cache-control": "no-cache"})
