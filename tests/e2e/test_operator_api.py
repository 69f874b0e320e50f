"""The operator HTTP API through the local runtime: the OpenAPI document, bearer tokens (401, and 403 for another
tenant), leads and dialogs with filters and pagination, the CAPI log, metrics, usage, messages to channel peers and
creative uploads in parts (the local blob store; S3 multipart against moto)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from clawgate.db import tenant_tx
from clawgate.entrypoints import HTTP_ROUTES
from clawgate.gateway import uploads
from clawgate.local.fakes import FakeAnthropic, FakeTelegram
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile
from moto import mock_aws

from tests.channel_fixtures import environment, tenant_secrets
from tests.e2e.conftest import Client
from tests.e2e.test_control_plane import connect_operator, new_device, seed_ads_data
from tests.runtime import RunningRuntime

ClientFor = Callable[..., Client]
MiB = 1024 * 1024


def api(client: Client, token: str | None = None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token or client.token}"}
    return httpx.Client(base_url=f"{client.url}/api/v1/tenants/{client.tenant.slug}", headers=headers, timeout=30)


@pytest.fixture
def seeded(client_for: ClientFor) -> Client:
    client = client_for()
    seed_ads_data(client.tenant.slug)
    return client


def test_the_openapi_document_describes_the_operator_routes(local: RunningRuntime) -> None:
    document = httpx.get(f"{local.url}/api/v1/openapi.json").json()
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    served = {(r.method, r.path) for r in HTTP_ROUTES if r.function == "operator_api" and "/parts/" not in r.path}
    served.discard(("GET", "/api/v1/openapi.json"))
    assert served <= documented
    assert ("POST", "/api/v1/tenants/{tenant}/agents/{agent}/run") in documented
    assert document["components"]["securitySchemes"]["gatewayToken"]["scheme"] == "bearer"
    leads = document["paths"]["/api/v1/tenants/{tenant}/leads"]["get"]
    assert {"source", "ad_id", "since", "limit", "cursor"} <= {p["name"] for p in leads["parameters"]}


TENANT_ROUTES = [
    ("GET", "/leads", None),
    ("GET", "/dialogs", None),
    ("GET", "/capi-events", None),
    ("GET", "/metrics", None),
    ("GET", "/usage", None),
    ("POST", "/messages", {"channel": "webchat", "peer": "dev-x", "text": "hi"}),
    ("POST", "/creatives/uploads", {"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 10}),
    ("POST", "/creatives/uploads/1/complete", {"parts": [{"part_number": 1, "etag": "x"}]}),
    ("POST", "/agents/assistant/run", {"message": "hi"}),
    ("GET", "/agents/assistant/runs/crm-42", None),
    ("GET", "/conversations", None),
    ("GET", "/conversations/1/messages", None),
    ("POST", "/conversations/1/messages", {"text": "hi"}),
    ("POST", "/conversations/1/mode", {"mode": "human"}),
    ("PATCH", "/conversations/1", {"labels": ["vip"]}),
    ("POST", "/conversations/1/template", {"name": "reminder", "language": "en"}),
    ("GET", "/templates", None),
    ("GET", "/metrics/conversations", None),
]


def test_every_tenant_route_wants_that_tenants_token(client_for: ClientFor) -> None:
    """Every route under /api/v1/tenants/{tenant}/ in the catalogue is here (a new one must be added, with a valid
    body, so that this proves the bearer middleware guards it); only the local part upload carries its own token."""
    listed = {(method, path.split("/")[1]) for method, path, _ in TENANT_ROUTES}
    catalogue = {
        (r.method, r.path.split("{tenant}")[1].split("/")[1])
        for r in HTTP_ROUTES
        if "{tenant}" in r.path and r.function in ("operator_api", "agent_run") and "/parts/" not in r.path
    }
    assert catalogue <= listed
    client, other = client_for(), client_for()
    # Its own source address: failed authentications are counted per source, and this test fails on purpose.
    # More routes than the failure limit: a source address per route (any 127.x reaches the loopback server).
    for index, (method, path, body) in enumerate(TENANT_ROUTES):
        stranger = httpx.Client(transport=httpx.HTTPTransport(local_address=f"127.0.1.{index + 1}"), timeout=30)
        anonymous = stranger.request(method, f"{client.url}/api/v1/tenants/{client.tenant.slug}{path}", json=body)
        assert (anonymous.status_code, anonymous.json()["error"]) == (401, "unauthorized"), path
        with api(client, token=other.token) as wrong:
            answer = wrong.request(method, path, json=body)
        assert (answer.status_code, answer.json()["error"]) == (403, "forbidden"), path


def test_leads_with_filters_and_pagination(seeded: Client) -> None:
    with api(seeded) as http:
        first = http.get("/leads", params={"limit": 2}).json()
        second = http.get("/leads", params={"limit": 2, "cursor": first["next_cursor"]}).json()
        assert [x["name"] for x in first["items"] + second["items"]] == ["Olga", "Ilya", "Dana"]
        assert second["next_cursor"] is None
        ctwa = http.get("/leads", params={"source": "ctwa"}).json()["items"]
        assert [(x["name"], x["ad_id"], x["qualification"], x["last_message"]) for x in ctwa] == [
            ("Dana", "ad_1", "interested", "Is Saturday free?")]  # fmt: skip
        assert http.get("/leads", params={"qualification": "interested"}).json()["items"][0]["name"] == "Dana"
        assert http.get("/leads", params={"since": "2999-01-01"}).json() == {"items": [], "next_cursor": None}
        bad = http.get("/leads", params={"limit": 1000})
        assert (bad.status_code, bad.json()["error"]) == (422, "invalid_request") and "limit" in bad.json()["message"]
        assert http.get("/leads", params={"cursor": "nope"}).status_code == 422
        assert http.get("/leads", params={"source": "fax"}).status_code == 422


def test_dialogs_capi_events_and_metrics(seeded: Client) -> None:
    with api(seeded) as http:
        page = http.get("/dialogs", params={"limit": 1}).json()
        assert [d["profile_name"] for d in page["items"]] == ["Dana"] and page["next_cursor"]
        rest = http.get("/dialogs", params={"limit": 1, "cursor": page["next_cursor"]}).json()
        assert [d["profile_name"] for d in rest["items"]] == ["Ilya"] and rest["next_cursor"] is None
        assert [d["user_id"] for d in http.get("/dialogs", params={"ad_id": "ad_1"}).json()["items"]] == ["u1"]
        sent = http.get("/capi-events", params={"status": "sent"}).json()["items"]
        assert [(e["level"], e["event_name"]) for e in sent] == [(1, "LeadSubmitted")]
        metrics = http.get("/metrics", params={"days": 2}).json()
        # cost per lead from our own leads (three today), not Meta's counts: 70 / 3
        assert [d["spend"] for d in metrics["days"]] == [20.0, 50.0] and metrics["cost_per_lead"] == 23.33


def test_usage_counts_todays_model_spend(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    with api(client) as http:
        assert http.get("/usage").json()["spent_today_usd"] == 0
        assert client.run("assistant", "hello").status_code == 200
        usage = http.get("/usage", params={"days": 3}).json()
    assert 0 < usage["spent_today_usd"] < usage["budget_usd"] == 20
    assert usage["today"][0]["model"] == "claude-sonnet-4-5" and usage["today"][0]["output_tokens"] > 0


def test_a_message_to_a_telegram_chat_goes_out_once_per_key(client_for: ClientFor, telegram: FakeTelegram) -> None:
    client = client_for()
    body = {"channel": "telegram", "agent": "director", "peer": "123456789", "text": "Your report is ready."}
    with environment(**tenant_secrets(client.tenant.slug)), api(client) as http:
        first = http.post("/messages", json=body, headers={"idempotency-key": "report-1"})
        again = http.post("/messages", json=body, headers={"idempotency-key": "report-1"})
        unknown = http.post("/messages", json={**body, "account_id": "someone/else"})
    assert (first.status_code, first.json()["sent"], again.json()["sent"]) == (200, 1, 0)
    assert [(m["chat_id"], m["text"]) for m in telegram.sent_messages()] == [(123456789, "Your report is ready.")]
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    with tenant_tx(client.tenant.slug) as conn:
        keys = conn.execute("SELECT idempotency_key, status FROM outbound_messages").fetchall()
    assert keys == [("api:report-1:0", "sent")]


def test_a_message_to_a_webchat_device_reaches_its_open_tab(local: RunningRuntime, client_for: ClientFor) -> None:
    client = client_for()
    ws, device = connect_operator(local, client)
    with ws, api(client) as http:
        answer = http.post("/messages", json={"channel": "webchat", "peer": device, "text": "Deploy done."})
        assert answer.json()["sent"] == 1
        assert ws.event("chat.final")["payload"]["text"] == "Deploy done."
        offline = http.post("/messages", json={"channel": "webchat", "peer": new_device(), "text": "anyone?"})
    assert (offline.status_code, offline.json()["error"]) == (502, "delivery_refused")


@pytest.fixture
def blob_dir(tmp_path: Path) -> Iterator[Path]:
    with environment(CLAWGATE_DATA_DIR=str(tmp_path)):
        yield tmp_path / "blobs"


def test_a_creative_uploaded_in_parts_becomes_a_creative(client_for: ClientFor, blob_dir: Path) -> None:
    client = client_for()
    data = os.urandom(5 * MiB + 1000)
    with api(client) as http:
        too_big = http.post("/creatives/uploads", json={"filename": "x.mp4", "content_type": "video/mp4",
                                                        "size_bytes": 500 * MiB + 1})  # fmt: skip
        assert too_big.status_code == 422 and "size_bytes" in too_big.json()["message"]
        started = http.post("/creatives/uploads", json={"filename": "spring sale.mp4", "content_type": "video/mp4",
                                                        "size_bytes": len(data), "title": "Spring"}).json()  # fmt: skip
        assert started["part_size_bytes"] == 8 * MiB and len(started["parts"]) == 1
        started = http.post("/creatives/uploads", json={"filename": "spring sale.mp4", "content_type": "video/mp4",
                                                        "size_bytes": len(data), "title": "Spring",
                                                        "part_size_bytes": 5 * MiB}).json()  # fmt: skip
        urls = [p["url"] for p in started["parts"]]
        assert len(urls) == 2
        forged = httpx.put(urls[0].replace("token=", "token=x"), content=data[: 5 * MiB])
        assert forged.status_code == 403
        etags = [httpx.put(url, content=data[i * 5 * MiB : (i + 1) * 5 * MiB]).headers["etag"]
                 for i, url in enumerate(urls)]  # fmt: skip
        assert etags[0] == f'"{hashlib.md5(data[: 5 * MiB]).hexdigest()}"'
        complete = f"/creatives/uploads/{started['upload']}/complete"
        wrong = http.post(complete, json={"parts": [{"part_number": 1, "etag": etags[1]},
                                                    {"part_number": 2, "etag": etags[1]}]})  # fmt: skip
        assert (wrong.status_code, wrong.json()["error"]) == (409, "upload_conflict")
        parts = [{"part_number": n, "etag": etag} for n, etag in enumerate(etags, 1)]
        missing = http.post(complete, json={"parts": parts[:1]})
        assert missing.status_code == 409
        creative = http.post(complete, json={"parts": parts})
        assert creative.status_code == 201, creative.text
        again = http.post(complete, json={"parts": parts}).json()
    body = creative.json()
    assert (body["kind"], body["title"], body["size_bytes"], body["status"]) == (
        "video",
        "Spring",
        len(data),
        "uploaded",
    )
    assert again == body
    assert (blob_dir / body["blob_key"]).read_bytes() == data
    with tenant_tx(client.tenant.slug) as conn:
        row = conn.execute("SELECT status, creative_id FROM creative_uploads WHERE id = %s", (started["upload"],))
        assert row.fetchone() == ("completed", body["id"])


def test_s3_multipart_upload_with_presigned_part_urls(make_tenant: Callable[..., TenantFile], database: str) -> None:
    tenant = make_tenant()
    apply_tenant(tenant)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"))
        s3.create_bucket(Bucket="creatives")
        store = uploads.S3Store("creatives", s3)
        data = os.urandom(5 * MiB + 10)
        request = uploads.UploadRequest(filename="banner.png", content_type="image/png", size_bytes=len(data),
                                        part_size_bytes=5 * MiB)  # fmt: skip
        started = uploads.start(tenant.slug, request, "http://unused", backend=store)
        assert len(started.parts) == 2
        assert all("uploadId=" in p.url and "X-Amz-Signature=" in p.url for p in started.parts)
        with tenant_tx(tenant.slug) as conn:
            upload_id = conn.execute("SELECT upload_id FROM creative_uploads").fetchone()[0]  # type: ignore[index]
        parts: list[dict[str, Any]] = []
        for number, start in ((1, 0), (2, 5 * MiB)):  # what a client's PUT to the presigned URL does
            piece = data[start : start + 5 * MiB]
            etag = s3.upload_part(Bucket="creatives", Key=started.blob_key, UploadId=upload_id, PartNumber=number,
                                  Body=piece)["ETag"]  # fmt: skip
            parts.append({"part_number": number, "etag": etag})
        done = uploads.CompleteRequest.model_validate({"parts": parts})
        creative = uploads.complete(tenant.slug, started.upload, done, backend=store)
        stored = s3.get_object(Bucket="creatives", Key=started.blob_key)["Body"].read()
    assert stored == data
    assert (creative.kind, creative.size_bytes, creative.blob_key) == ("image", len(data), started.blob_key)
