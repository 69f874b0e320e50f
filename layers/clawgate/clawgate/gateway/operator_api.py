"""The operator HTTP API (`/api/v1/...`): send a message to a channel peer, list leads, dialogs and the CAPI log,
metrics and model usage, and creative uploads. A Powertools resolver validates every request against pydantic
models and serves its own OpenAPI document at `GET /api/v1/openapi.json`. Every tenant route wants the tenant's
gateway token as `Authorization: Bearer …`: no token → 401, another tenant's token → 403, checked by one middleware,
`bearer_auth`, for every route that declares the `gatewayToken` security scheme (so the OpenAPI document and the
check cannot disagree).

Errors, everywhere (the run API included), are `{"error": code, "message": text}`; validation adds `detail`."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from clawgate.agent import run_api
from clawgate.agent.outreach import OutreachRefusedError
from clawgate.db import tenant_tx
from clawgate.gateway import inbox, inbox_media, reports, uploads
from clawgate.gateway.data import conversions, dialogs, leads
from clawgate.gateway.data import inbox as inbox_data
from clawgate.gateway.data.pages import MAX_LIMIT, BadCursorError, Page
from clawgate.gateway.resolver import ThreadSafeHttpResolver
from clawgate.gateway.sending import SendRefusedError, send
from clawgate.observability import bind
from clawgate.tenancy.tokens import TOO_MANY_FAILURES, bearer_tenant

TAG = "operator"
SECURITY: list[dict[str, list[str]]] = [{"gatewayToken": []}]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")]

app = ThreadSafeHttpResolver(enable_validation=True)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _error(status: int, code: str, message: str, **extra: Any) -> Response[Any]:
    return Response(status, "application/json", {"error": code, "message": message, **extra})


@app.exception_handler(ApiError)
def _api_error(error: ApiError) -> Response[Any]:
    return _error(error.status, error.code, str(error))


@app.exception_handler(RequestValidationError)
def _invalid(error: RequestValidationError) -> Response[Any]:
    problems = [{"loc": list(p.get("loc", ())), "type": p.get("type"), "msg": p.get("msg")} for p in error.errors()]
    first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
    return _error(422, "invalid_request", f"{'.'.join(map(str, first['loc']))}: {first.get('msg') or first['type']}",
                  detail=problems)  # fmt: skip


@app.exception_handler(BadCursorError)
def _bad_cursor(error: BadCursorError) -> Response[Any]:
    return _error(422, "invalid_request", str(error))


@app.exception_handler(uploads.UploadError)
def _upload_error(error: uploads.UploadError) -> Response[Any]:
    return _error(409, "upload_conflict", str(error))


@app.exception_handler(SendRefusedError)
def _send_refused(error: SendRefusedError) -> Response[Any]:
    if error.retryable:
        return _error(503, "channel_unavailable", str(error))
    return _error(502, "delivery_refused", str(error))


@app.exception_handler(inbox.WindowClosedError)
def _window_closed(error: inbox.WindowClosedError) -> Response[Any]:
    return _error(409, "window_closed", str(error), templates=error.templates)


@app.exception_handler(OutreachRefusedError)
def _outreach_refused(error: OutreachRefusedError) -> Response[Any]:
    status = 422 if error.code in ("invalid_request", "unknown_template") else 409
    return _error(status, error.code, str(error), **({"field": error.field} if error.field else {}))


@app.exception_handler(LookupError)
def _not_found(error: LookupError) -> Response[Any]:
    return _error(404, "not_found", str(error))


def bearer_auth(router: APIGatewayHttpResolver, next_middleware: Callable[..., Response[Any]]) -> Response[Any]:
    """The tenant's gateway token, checked before any route that declares `SECURITY` runs."""
    route = router.context.get("_route")
    if getattr(route, "security", None) != SECURITY:
        return next_middleware(router)  # the OpenAPI document, the local part upload (its URL carries a token)
    tenant = str(router.context.get("_route_args", {}).get("tenant", ""))
    authorization = router.current_event.get_header_value("authorization") or ""
    source = router.current_event.request_context.http.source_ip or "unknown"
    check = bearer_tenant(authorization, source, "operator api")
    if check.throttled:
        return _error(429, "rate_limited", TOO_MANY_FAILURES)
    if check.tenant is None:
        return _error(401, "unauthorized", "a valid gateway token is required")
    if check.tenant != tenant:
        return _error(403, "forbidden", "this token is not for that tenant")
    bind(tenant=tenant)
    return next_middleware(router)


app.use(middlewares=[bearer_auth])


@app.get("/api/v1/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    document = app.get_openapi_json_schema(
        title="Clawgate operator API",
        version="1",
        description=__doc__,
        security_schemes={
            "gatewayToken": HTTPBearer(description="the tenant's gateway token (clawgate tokens create)")
        },
    )
    return Response(200, "application/json", document)


@app.post("/api/v1/tenants/<tenant>/agents/<agent>/run", tags=[TAG], security=SECURITY,
          summary="Run one agent turn: the reply within 20 s, else 202 and its result_url (agent_run)")  # fmt: skip
def run_agent(tenant: str, agent: str, body: run_api.RunBody) -> Response[Any]:
    request_id = app.current_event.get_header_value("idempotency-key") or str(uuid.uuid4())
    return _run_response(*run_api.run_turn(tenant, agent, body, request_id))


@app.get("/api/v1/tenants/<tenant>/agents/<agent>/runs/<request>", tags=[TAG], security=SECURITY,
         summary="A started run: 200 and the reply once finished, 202 while it runs")  # fmt: skip
def run_result(tenant: str, agent: str, request: str) -> Response[Any]:
    return _run_response(*run_api.run_status(tenant, agent, request))


def _run_response(status: int, body: dict[str, Any]) -> Response[Any]:
    headers = {"Location": body["result_url"]} if status == 202 else None
    return Response(status, "application/json", body, headers=headers)


class MessageBody(BaseModel):
    channel: Literal["whatsapp", "telegram", "messenger", "instagram", "webchat"]
    peer: str = Field(
        min_length=1, max_length=200, description="WhatsApp user id / wa_id, Telegram chat id, PSID, IGSID, device"
    )
    text: str = Field(min_length=1, max_length=4096)
    account_id: str | None = Field(default=None, description="default: the tenant's (first) account of the channel")
    agent: str | None = Field(default=None, description="Telegram: the bot of this agent")


class MessageSent(BaseModel):
    sent: int
    key: str


@app.post("/api/v1/tenants/<tenant>/messages", tags=[TAG], security=SECURITY,
          summary="Send a text to a channel peer, once per Idempotency-Key")  # fmt: skip
def send_message(tenant: str, body: MessageBody) -> MessageSent:
    key = "api:" + (app.current_event.get_header_value("idempotency-key") or uuid.uuid4().hex)
    return MessageSent(sent=send(tenant, body.channel, body.peer, body.text, key, body.account_id, body.agent), key=key)


@app.get("/api/v1/tenants/<tenant>/leads", tags=[TAG], security=SECURITY, summary="Leads, newest first")
def list_leads(tenant: str, source: Annotated[leads.LeadSource | None, Query()] = None,
               ad_id: Annotated[str | None, Query(max_length=64)] = None,
               qualification: Annotated[dialogs.Qualification | None, Query()] = None,
               since: Annotated[date | None, Query()] = None, until: Annotated[date | None, Query()] = None,
               limit: Limit = 50, cursor: Cursor = None) -> Page[leads.Lead]:  # fmt: skip
    query = leads.LeadQuery(source=source, ad_id=ad_id, qualification=qualification, since=since, until=until,
                              limit=limit, cursor=cursor)  # fmt: skip
    with tenant_tx(tenant, "ro") as conn:
        return leads.page(conn, query)


@app.get("/api/v1/tenants/<tenant>/dialogs", tags=[TAG], security=SECURITY,
         summary="WhatsApp dialogs, latest message first")  # fmt: skip
def list_dialogs(tenant: str, qualification: Annotated[dialogs.Qualification | None, Query()] = None,
                 ad_id: Annotated[str | None, Query(max_length=64)] = None,
                 with_ad: Annotated[bool | None, Query()] = None, limit: Limit = 50,
                 cursor: Cursor = None) -> Page[dialogs.Dialog]:  # fmt: skip
    query = dialogs.DialogQuery(qualification=qualification, ad_id=ad_id, with_ad=with_ad, limit=limit, cursor=cursor)
    with tenant_tx(tenant, "ro") as conn:
        return dialogs.page(conn, query)


@app.get("/api/v1/tenants/<tenant>/capi-events", tags=[TAG], security=SECURITY, summary="The Conversions API log")
def list_capi_events(tenant: str, status: Annotated[conversions.CapiStatus | None, Query()] = None,
                     level: Annotated[int | None, Query(ge=0, le=3)] = None, limit: Limit = 50,
                     cursor: Cursor = None) -> Page[conversions.CapiEvent]:  # fmt: skip
    query = conversions.CapiQuery(status=status, level=level, limit=limit, cursor=cursor)
    with tenant_tx(tenant, "ro") as conn:
        return conversions.page(conn, query)


@app.get("/api/v1/tenants/<tenant>/metrics", tags=[TAG], security=SECURITY,
         summary="Ad spend, leads and cost per lead per day")  # fmt: skip
def metrics(tenant: str, days: Annotated[int, Query(ge=1, le=366)] = 30) -> reports.MetricsSummary:
    return reports.metrics(tenant, reports.MetricsQuery(days=days))


@app.get("/api/v1/tenants/<tenant>/metrics/conversations", tags=[TAG], security=SECURITY,
         summary="First responses, resolved without a person, hand-offs per day, cost per lead")  # fmt: skip
def conversation_metrics(tenant: str, days: Annotated[int, Query(ge=1, le=366)] = 30) -> reports.ConversationNumbers:
    return reports.conversations(tenant, reports.MetricsQuery(days=days))


@app.get("/api/v1/tenants/<tenant>/usage", tags=[TAG], security=SECURITY,
         summary="Model usage today (against the daily budget) and per day")  # fmt: skip
def usage(tenant: str, days: Annotated[int, Query(ge=1, le=90)] = 7) -> reports.UsageSummary:
    return reports.usage(tenant, reports.UsageQuery(days=days))


def _base_url() -> str:
    event = app.current_event
    host = event.get_header_value("host") or event.request_context.domain_name or "localhost"
    return f"{event.get_header_value('x-forwarded-proto') or 'http'}://{host}"


@app.post("/api/v1/tenants/<tenant>/creatives/uploads", tags=[TAG], security=SECURITY, status_code=201,
          summary="Start a creative upload (up to 500 MiB): one presigned PUT URL per part")  # fmt: skip
def start_upload(tenant: str, body: uploads.UploadRequest) -> uploads.UploadStarted:
    return uploads.start(tenant, body, _base_url())


@app.post("/api/v1/tenants/<tenant>/creatives/uploads/<upload>/complete", tags=[TAG], security=SECURITY,
          status_code=201, summary="Join the uploaded parts (their ETags) into a creative")  # fmt: skip
def complete_upload(tenant: str, upload: int, body: uploads.CompleteRequest) -> uploads.Creative:
    return uploads.complete(tenant, upload, body)


def _raw_body() -> bytes:
    event = app.current_event
    return base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()


@app.put("/api/v1/tenants/<tenant>/creatives/uploads/<upload>/parts/<part>", include_in_schema=False)
def put_part(tenant: str, upload: int, part: int, token: Annotated[str, Query(max_length=100)]) -> Response[str]:
    """Local blob store only: the stand-in for S3's presigned part URL (the token in the URL is the credential)."""
    try:
        etag = uploads.put_local_part(tenant, upload, part, token, _raw_body())
    except PermissionError as error:
        raise ApiError(403, "forbidden", str(error)) from None
    return Response(200, "text/plain", "", headers={"ETag": etag})


# The operator inbox ------------------------------------------------------------------------------------------------
def _idempotency_key() -> str | None:
    key = app.current_event.get_header_value("idempotency-key")
    if key is not None and not (1 <= len(key) <= 200):
        raise ApiError(422, "invalid_request", "Idempotency-Key: 1 to 200 characters")
    return key


@app.get("/api/v1/tenants/<tenant>/conversations", tags=[TAG], security=SECURITY,
         summary="Conversations on every channel, latest activity first")  # fmt: skip
def list_conversations(tenant: str, mode: Annotated[Literal["bot", "human"] | None, Query()] = None,
                       channel: Annotated[str | None, Query(pattern=r"^[a-z]{2,20}$")] = None,
                       label: Annotated[str | None, Query(pattern=inbox_data.LABEL)] = None,
                       assignee: Annotated[str | None, Query(max_length=100)] = None,
                       qualification: Annotated[dialogs.Qualification | None, Query()] = None,
                       ad_id: Annotated[str | None, Query(max_length=64)] = None, limit: Limit = 50,
                       cursor: Cursor = None) -> Page[inbox_data.ConversationItem]:  # fmt: skip
    filters = {"mode": mode, "channel": channel, "label": label, "assignee": assignee, "qualification": qualification,
               "ad_id": ad_id, "limit": limit, "cursor": cursor}  # fmt: skip
    query = inbox_data.ConversationQuery.model_validate(filters)
    with tenant_tx(tenant, "ro") as conn:
        return inbox_data.page(conn, query)


@app.get("/api/v1/tenants/<tenant>/conversations/<conversation>/messages", tags=[TAG], security=SECURITY,
         summary="A conversation's transcript, oldest first (reading it marks the conversation read)")  # fmt: skip
def conversation_messages(tenant: str, conversation: int,
                          limit: Annotated[int, Query(ge=1, le=500)] = 200) -> inbox.MessagesPage:  # fmt: skip
    page = inbox.transcript(tenant, conversation, limit)
    inbox.mark_read(tenant, conversation)
    return page


@app.get("/api/v1/tenants/<tenant>/conversations/<conversation>/messages/<message>/media/<index>", tags=[TAG],
         security=SECURITY, summary="A customer's image, audio, video or document: its bytes, or in AWS a 302 to a "
         "presigned S3 URL of a minute (as JSON when `Accept` names application/vnd.clawgate.media-link+json)",
         responses={200: {"description": "the file"}, 302: {"description": "Location: the presigned URL"}})  # fmt: skip
def conversation_media(tenant: str, conversation: int, message: int, index: int) -> Response[Any]:
    media = inbox_media.media_file(tenant, conversation, message, index)
    return _media_response(media, app.current_event.get_header_value("accept") or "")


def _media_response(media: inbox_media.MediaFile, accept: str) -> Response[Any]:
    """The bytes (local store), or the presigned URL: a redirect, or JSON for the web UI. Never cached: the URL is a
    credential for a minute."""
    if media.url is None:
        response = Response(200, media.content_type, base64.b64encode(media.data).decode(), headers=media.headers)
        response.base64_encoded = True  # binary: already encoded, so response validation passes the body through
        return response
    no_store = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if inbox_media.LINK_TYPE in accept:
        link = {"url": media.url, "expires_in": inbox_media.LINK_TTL_S}
        return Response(200, inbox_media.LINK_TYPE, json.dumps(link), headers=no_store)
    return Response(302, "text/plain", "", headers={"Location": media.url, **no_store})


@app.post("/api/v1/tenants/<tenant>/conversations/<conversation>/messages", tags=[TAG], security=SECURITY,
          status_code=201, summary="A human reply over the conversation's channel, once per key")  # fmt: skip
def reply(tenant: str, conversation: int, body: inbox.ReplyBody) -> dict[str, Any]:
    try:
        return inbox.reply(tenant, conversation, body, _idempotency_key())
    except inbox.DeliveryError as error:
        raise SendRefusedError(str(error), retryable=error.retryable) from error


@app.post("/api/v1/tenants/<tenant>/conversations/<conversation>/mode", tags=[TAG], security=SECURITY,
          summary="Take a conversation over (human) or give it back (bot), and assign it")  # fmt: skip
def set_mode(tenant: str, conversation: int, body: inbox.ModeBody) -> dict[str, Any]:
    return inbox.set_mode(tenant, conversation, body)


@app.patch("/api/v1/tenants/<tenant>/conversations/<conversation>", tags=[TAG], security=SECURITY,
           summary="Labels and a private note")  # fmt: skip
def update_conversation(tenant: str, conversation: int, body: inbox.PatchBody) -> dict[str, Any]:
    return inbox.update(tenant, conversation, body)


@app.get("/api/v1/tenants/<tenant>/templates", tags=[TAG], security=SECURITY,
         summary="The WhatsApp account's approved templates (cached; refresh=true asks Graph now)")  # fmt: skip
def list_templates(tenant: str, refresh: Annotated[bool, Query()] = False) -> dict[str, Any]:
    try:
        return {"items": inbox.template_summaries(tenant, refresh)}
    except inbox.DeliveryError as error:
        raise SendRefusedError(str(error), retryable=error.retryable) from error


@app.post("/api/v1/tenants/<tenant>/conversations/<conversation>/template", tags=[TAG], security=SECURITY,
          status_code=201, summary="Send an approved template (allowed outside the window), once per key")  # fmt: skip
def send_template(tenant: str, conversation: int, body: inbox.TemplateBody) -> dict[str, Any]:
    try:
        return inbox.send_template(tenant, conversation, body, _idempotency_key())
    except inbox.DeliveryError as error:
        raise SendRefusedError(str(error), retryable=error.retryable) from error
