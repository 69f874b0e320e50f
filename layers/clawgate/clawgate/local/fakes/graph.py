"""Fake Meta Graph API (any /vNN.N/ prefix): WhatsApp send and mark-read, media, Lead Ads, Conversions API and the
Marketing API objects and insights, WhatsApp message templates, shaped so the real `facebook-business` SDK can drive it.

Point the SDK at it with `FacebookSession.GRAPH = fake.url`. Register data with `add_lead`, `add_media`,
`add_object`, `add_insights`; read what arrived with `whatsapp_sent`, `read_receipts`, `capi_events()`, `created`,
`updates`, or the raw `requests`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from clawgate.local.fakes.base import FakeServer, RecordedRequest, Response
from clawgate.local.fakes.graph_rules import create_refusal
from clawgate.local.fakes.graph_support import (
    decode_events,
    decode_params,
    decode_value,
    default_error,
    error_response,
    fbtrace_id,
    graph_error,
    insights_row,
    missing_object,
    page,
    select_fields,
)
from clawgate.local.fakes.send_api import CDN_PREFIX, SendApiFake

__all__ = ["FakeGraph", "graph_error"]

_VERSION = re.compile(r"^/v\d+\.\d+(?=/|$)")
MEDIA_PREFIX = "/_media/"
IMAGES_PREFIX = "/_images/"
_CREATE_KINDS = {"campaigns": "campaign", "adsets": "adset", "adcreatives": "adcreative", "ads": "ad"}
_REQUIRED = {
    "campaign": ("name", "objective", "special_ad_categories"),
    "adset": ("name", "campaign_id", "billing_event", "optimization_goal", "targeting"),
    "adcreative": (),
    "ad": ("name", "adset_id", "creative"),
}


def _fields_param(value: Any) -> str | None:
    decoded = decode_value(value)
    return ",".join(map(str, decoded)) if isinstance(decoded, list) else decoded


class FakeGraph(SendApiFake, FakeServer):
    """Loopback Graph API. `access_token`, when given, is the only token accepted (others get error 190).
    Messenger's Send API (`messages_sent`, `sender_actions`) comes from `SendApiFake`."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", access_token: str | None = None) -> None:
        super().__init__(port, host)
        self.access_token = access_token
        self._init_state()

    def _init_state(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.kinds: dict[str, str] = {}
        self.media_bytes: dict[str, bytes] = {}
        self.insights: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.whatsapp_sent: list[dict[str, Any]] = []
        self.templates: dict[str, list[dict[str, Any]]] = {}
        self.refuse_bsuid = False  # answer 131062 to a send addressed only by `recipient` (a BSUID)
        # Called with each WhatsApp send's body before Graph takes it; False: never taken (the sender died first)
        self.take_send: Callable[[dict[str, Any]], bool] | None = None
        self.read_receipts: list[dict[str, Any]] = []
        self.capi_batches: list[dict[str, Any]] = []
        self.created: list[dict[str, Any]] = []
        self.updates: list[tuple[str, dict[str, Any]]] = []
        self.images: dict[str, bytes] = {}
        self._report_runs: dict[str, tuple[str, dict[str, Any]]] = {}
        self.locations: list[dict[str, Any]] = []
        self._counter = 120_000_000_000_000
        self._init_send_api()

    def _reset_state(self) -> None:
        self._init_state()

    # registration ----------------------------------------------------------------------------------------------
    def new_id(self) -> str:
        with self._lock:
            self._counter += 1
            return str(self._counter)

    def add_object(self, object_id: str, kind: str = "object", **fields: Any) -> dict[str, Any]:
        """Register any node (ad, adset, campaign, page...) for GET /{id}, edges and updates."""
        with self._lock:
            node = {"id": str(object_id), **fields}
            self.objects[str(object_id)] = node
            self.kinds[str(object_id)] = kind
            return node

    def add_lead(
        self,
        leadgen_id: str | int,
        field_data: list[dict[str, Any]],
        ad_id: str | None = None,
        form_id: str | None = None,
        created_time: str = "2026-01-01T12:00:00+0000",
        **extra: Any,
    ) -> dict[str, Any]:
        """`field_data` is `[{"name": "full_name", "values": ["Joe"]}, ...]`; extra: adset_id, campaign_id, ..."""
        fields: dict[str, Any] = {"created_time": created_time, "field_data": field_data, **extra}
        fields.update({k: v for k, v in (("ad_id", ad_id), ("form_id", form_id)) if v is not None})
        fields.setdefault("is_organic", False)
        fields.setdefault("platform", "fb")
        return self.add_object(str(leadgen_id), "lead", **fields)

    def add_media(self, media_id: str, content: bytes, mime_type: str = "image/jpeg") -> dict[str, Any]:
        """WhatsApp media: GET /{media_id} answers url/mime_type/sha256/file_size; the url serves `content`."""
        self.media_bytes[media_id] = content
        return self.add_object(
            media_id,
            "media",
            messaging_product="whatsapp",
            url=f"{self.url}{MEDIA_PREFIX}{media_id}",
            mime_type=mime_type,
            sha256=hashlib.sha256(content).hexdigest(),
            file_size=len(content),
        )

    def add_template(
        self, waba_id: str, name: str, body: str, language: str = "en", status: str = "APPROVED",
        category: str = "MARKETING",
    ) -> dict[str, Any]:  # fmt: skip
        """A message template for GET /{waba_id}/message_templates (a BODY component with {{1}}-style slots)."""
        template = {"id": self.new_id(), "name": name, "language": language, "status": status, "category": category,
                    "components": [{"type": "BODY", "text": body}]}  # fmt: skip
        with self._lock:
            self.templates.setdefault(str(waba_id), []).append(template)
        return template

    def add_insights(self, node_id: str, rows: list[dict[str, Any]], level: str = "ad") -> None:
        """Rows for GET /{node_id}/insights?level=<level> (node_id as sent, e.g. "act_123"). Numbers may be ints."""
        with self._lock:
            self.insights.setdefault((node_id, level), []).extend(rows)

    def objects_of(self, kind: str, account_id: str | None = None) -> list[dict[str, Any]]:
        account = account_id.removeprefix("act_") if account_id else None
        with self._lock:
            return [
                node
                for oid, node in self.objects.items()
                if self.kinds.get(oid) == kind and (account is None or str(node.get("account_id")) == account)
            ]

    # failures and reads ----------------------------------------------------------------------------------------
    def fail_graph(
        self,
        code: int,
        subcode: int | None = None,
        message: str | None = None,
        status: int = 400,
        times: int = 1,
        path_contains: str | None = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
    ) -> None:
        self.fail_next(status, graph_error(code, subcode, message), times, path_contains, headers, method)

    def error_body(self, status: int) -> dict[str, Any]:
        return default_error(status)

    def capi_events(self, dataset_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            batches = [b for b in self.capi_batches if dataset_id is None or b["dataset_id"] == dataset_id]
        return [event for batch in batches for event in batch["events"]]

    def sent_whatsapp(self, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.whatsapp_sent if to is None or m.get("to") == to]

    # dispatch --------------------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Response:
        if request.path.startswith(IMAGES_PREFIX):
            image = self.images.get(request.path.removeprefix(IMAGES_PREFIX))
            return Response(200, image, {"content-type": "image/png"}) if image else Response(404, b"Not Found")
        if request.path.startswith(MEDIA_PREFIX):
            return self._download(request)
        if request.path.startswith(CDN_PREFIX):
            return self._cdn(request)
        token = request.params.get("access_token") or request.bearer_token
        if not token:
            return error_response(104, "An access token is required to request this resource.")
        if self.access_token is not None and token != self.access_token:
            return error_response(190, "Invalid OAuth access token - Cannot parse access token", status=401)
        segments = [s for s in _VERSION.sub("", request.path).split("/") if s]
        if segments == ["search"]:
            return self._search(request)
        if len(segments) == 1:
            return self._node(request, segments[0])
        if len(segments) == 2:
            return self._edge(request, segments[0], segments[1], str(token))
        return error_response(2500, "Unknown path components: " + request.path)

    def _node(self, request: RecordedRequest, node_id: str) -> Response:
        if node_id in self._report_runs:
            return self._report_run(node_id)
        with self._lock:
            node = self.objects.get(node_id)
            if node is None:
                return missing_object(node_id)
            if request.method == "GET":
                return Response.json(select_fields(node, _fields_param(request.params.get("fields"))))
            if request.method == "DELETE":
                del self.objects[node_id]
                return Response.json({"success": True})
            changes = decode_params(request.params)
            node.update(changes)
            self.updates.append((node_id, changes))
        return Response.json({"success": True})

    def _edge(self, request: RecordedRequest, node_id: str, edge: str, token: str = "") -> Response:
        post = request.method == "POST"
        if (
            post
            and edge == "messages"
            and isinstance(request.json, dict)
            and isinstance(request.json.get("recipient"), dict)
        ):
            return self._send(request, node_id, token)
        if post and edge == "messages":
            return self._whatsapp(request, node_id)
        if post and edge == "events":
            return self._capi(request, node_id)
        if edge == "insights" and node_id in self._report_runs:
            return self._insights(request, *self._report_runs[node_id])
        if edge == "insights":
            return self._start_report(request, node_id) if post else self._insights(request, node_id)
        if post and edge in _CREATE_KINDS:
            return self._create(request, node_id, _CREATE_KINDS[edge])
        if post and edge == "adimages":
            return self._adimages(request)
        if post and edge == "advideos":
            return self._advideo(request)
        if post and edge == "leadgen_forms":
            return self._create_form(request, node_id)
        if edge == "thumbnails":
            return Response.json(page(self.objects.get(node_id, {}).get("thumbnails", []), request.query,
                                      self.url + request.path))  # fmt: skip
        if not post and edge == "message_templates":
            with self._lock:
                found = [select_fields(t, _fields_param(request.params.get("fields")))
                         for t in self.templates.get(node_id, [])]  # fmt: skip
            return Response.json(page(found, request.query, self.url + request.path))
        if post and edge == "subscribed_apps":
            return Response.json({"success": True})
        if not post and edge in _CREATE_KINDS:
            items = [
                select_fields(n, _fields_param(request.params.get("fields")))
                for n in self.objects_of(_CREATE_KINDS[edge], node_id)
            ]
            return Response.json(page(items, request.query, self.url + request.path))
        return error_response(100, f"(#100) Tried accessing nonexisting field ({edge})")

    # WhatsApp, media, CAPI -------------------------------------------------------------------------------------
    def _whatsapp(self, request: RecordedRequest, phone_number_id: str) -> Response:
        body = request.json if isinstance(request.json, dict) else decode_params(request.params)
        if body.get("messaging_product") != "whatsapp":
            return error_response(100, "(#100) The parameter messaging_product is required.")
        if body.get("status") == "read":
            with self._lock:
                self.read_receipts.append({"phone_number_id": phone_number_id, **body})
            return Response.json({"success": True})
        text = body.get("text")
        if isinstance(text, dict) and len(str(text.get("body", ""))) > 4096:
            return error_response(100, "(#100) Param text['body'] must be at most 4096 characters long.")
        recipient = str(body.get("to") or body.get("recipient") or "")
        if self.refuse_bsuid and not body.get("to"):
            return error_response(131062, "(#131062) Business-scoped user ID recipients not supported for this message")
        if self.take_send is not None and not self.take_send(body):
            return error_response(2, "(#2) Service temporarily unavailable", status=503)
        wamid = "wamid." + base64.b64encode(secrets.token_bytes(30)).decode().rstrip("=")
        with self._lock:
            self.whatsapp_sent.append({"phone_number_id": phone_number_id, "wamid": wamid, **body})
        message: dict[str, Any] = {"id": wamid}
        if body.get("type") == "template":
            message["message_status"] = "accepted"
        contact_id = {"wa_id": re.sub(r"\D", "", recipient)} if body.get("to") else {"user_id": recipient}
        contacts = [{"input": recipient, **contact_id}]
        return Response.json({"messaging_product": "whatsapp", "contacts": contacts, "messages": [message]})

    def _download(self, request: RecordedRequest) -> Response:
        media_id = request.path.removeprefix(MEDIA_PREFIX)
        if not (request.bearer_token or request.query.get("access_token")):
            return Response(401, b"Unauthorized", {"content-type": "text/plain"})
        content = self.media_bytes.get(media_id)
        if content is None:
            return Response(404, b"Not Found", {"content-type": "text/plain"})
        mime_type = str(self.objects.get(media_id, {}).get("mime_type", "application/octet-stream"))
        return Response(200, content, {"content-type": mime_type})

    def _capi(self, request: RecordedRequest, dataset_id: str) -> Response:
        params = request.params
        events = decode_events(params.get("data"))
        if not events:
            return error_response(100, "(#100) The parameter data is required")
        if len(events) > 1000:
            return error_response(100, "(#100) You can send at most 1000 events per request")
        batch = {
            "dataset_id": dataset_id,
            "events": events,
            "test_event_code": params.get("test_event_code"),
            "partner_agent": params.get("partner_agent"),
        }
        with self._lock:
            self.capi_batches.append(batch)
        return Response.json({"events_received": len(events), "messages": [], "fbtrace_id": fbtrace_id()})

    # Marketing API ---------------------------------------------------------------------------------------------
    def _insights(self, request: RecordedRequest, node_id: str, stored: dict[str, Any] | None = None) -> Response:
        params: dict[str, Any] = {**(stored or {}), **request.query}
        params["fields"] = _fields_param(params.get("fields"))
        level = str(params.get("level") or ("account" if node_id.startswith("act_") else "ad"))
        with self._lock:
            rows = [insights_row(row, params) for row in self.insights.get((node_id, level), [])]
        return Response.json(page(rows, request.query, self.url + request.path))

    def _start_report(self, request: RecordedRequest, node_id: str) -> Response:
        run_id = self.new_id()
        with self._lock:
            self._report_runs[run_id] = (node_id, dict(request.params))
        return Response.json({"report_run_id": run_id})

    def _report_run(self, run_id: str) -> Response:
        node_id, _ = self._report_runs[run_id]
        now = int(time.time())
        return Response.json(
            {
                "id": run_id,
                "account_id": node_id.removeprefix("act_"),
                "async_status": "Job Completed",
                "async_percent_completion": 100,
                "time_ref": now,
                "time_completed": now,
            }
        )

    def _create(self, request: RecordedRequest, account: str, kind: str) -> Response:
        if not account.startswith("act_"):
            return error_response(100, f"(#100) Cannot create a {kind} under {account}")
        fields = decode_params(request.params)
        missing = [name for name in _REQUIRED[kind] if name not in fields]
        if missing:
            return error_response(100, f"(#100) The parameter {missing[0]} is required")
        refusal = create_refusal(kind, fields)
        if refusal:
            return error_response(100, refusal)
        object_id = self.new_id()
        if kind != "adcreative":
            fields.setdefault("status", "ACTIVE")
        node = self.add_object(object_id, kind, account_id=account.removeprefix("act_"), **fields)
        with self._lock:
            self.created.append({"kind": kind, **node})
        return Response.json({"id": object_id})

    def _adimages(self, request: RecordedRequest) -> Response:
        uploads = {f.filename: f.data for f in request.files.values()}
        raw = request.params.get("bytes")
        if isinstance(raw, str):
            uploads["bytes"] = base64.b64decode(raw)
        if not uploads:
            return error_response(100, "(#100) No image file or bytes were provided")
        images: dict[str, Any] = {}
        for name, data in uploads.items():
            image_hash = hashlib.md5(data).hexdigest()  # Graph's image hash is an MD5
            with self._lock:
                self.images[image_hash] = data
            images[name] = {"hash": image_hash, "url": f"{self.url}{IMAGES_PREFIX}{image_hash}"}
        return Response.json({"images": images})

    def _advideo(self, request: RecordedRequest) -> Response:
        """Resumable upload phases (start/transfer/finish) or a single `source` upload. Note: the SDK posts these
        to the hard-coded https://graph-video.facebook.com, so tests must override that URL to reach the fake."""
        params = request.params
        phase = params.get("upload_phase")
        if phase == "start":
            size, video_id = str(params.get("file_size", "0")), self.new_id()
            thumbnail = {"id": self.new_id(), "uri": f"{self.url}{IMAGES_PREFIX}thumb-{video_id}", "is_preferred": True}
            self.add_object(video_id, "video", status={"video_status": "processing", "processing_progress": 0},
                            thumbnails=[thumbnail])  # fmt: skip
            return Response.json(
                {"video_id": video_id, "upload_session_id": self.new_id(), "start_offset": "0", "end_offset": size}
            )
        if phase == "transfer":
            end = str(int(params.get("start_offset", 0)) + sum(len(f.data) for f in request.files.values()))
            return Response.json({"start_offset": end, "end_offset": end})
        if phase == "finish":
            with self._lock:  # Meta processes the video after the upload; the fake is done at once
                for node in self.objects.values():
                    status = node.get("status")
                    if isinstance(status, dict) and status.get("video_status") == "processing":
                        node["status"] = {"video_status": "ready", "processing_progress": 100}
            return Response.json({"success": True})
        return Response.json({"id": self.new_id()})

    def _create_form(self, request: RecordedRequest, page_id: str) -> Response:
        fields = decode_params(request.params)
        if not fields.get("questions") or not fields.get("privacy_policy"):
            return error_response(100, "(#100) questions and privacy_policy are required")
        form_id = self.new_id()
        node = self.add_object(form_id, "leadgen_form", page_id=page_id, **fields)
        with self._lock:
            self.created.append({"kind": "leadgen_form", **node})
        return Response.json({"id": form_id})

    def _search(self, request: RecordedRequest) -> Response:
        """`GET /search?type=adgeolocation&q=…`: the registered `locations` whose name starts with q."""
        query = str(request.query.get("q") or "").lower()
        found = [loc for loc in self.locations if str(loc.get("name", "")).lower().startswith(query)]
        return Response.json({"data": found})
