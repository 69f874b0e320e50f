"""A customer's media through the operator API, from the attacker's side: only the tenant's own token reads it, only
media a stored message names (never another tenant's blob), and a hostile file name or an `text/html` mime type
reaches the response only as an inert, escaped download."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from clawgate.core.blobs import blob_store
from clawgate.core.meta_webhooks import sign
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic, FakeGraph

from tests.channel_payloads import raw, wa_body, wa_message
from tests.conftest import TEST_APP_SECRET
from tests.e2e.conftest import Client
from tests.e2e.test_control_plane import connect_operator
from tests.e2e.test_inbox import api, drain, inbox
from tests.runtime import RunningRuntime

__all__ = ["inbox"]
HOSTILE_NAME = '"><img src=x onerror=alert(1)>\r\nX-Injected: yes; ../../etc/passwd.html'


def png(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny, red) PNG, so a browser can decode it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def customer_sends(local: RunningRuntime, client: Client, graph: FakeGraph, kind: str, media_id: str, data: bytes,
                   mime_type: str, user: str = "US.500", wait: bool = True, **body: Any) -> None:  # fmt: skip
    graph.add_media(media_id, data, mime_type)
    message = wa_message(kind, {"id": media_id, "mime_type": mime_type, "sha256": "x", **body}, user_id=user,
                         wa_id=user.removeprefix("US."))  # fmt: skip
    payload = raw(wa_body([message], phone_number_id=client.tenant.channels.whatsapp[0].phone_number_id))
    headers = {"x-hub-signature-256": sign(payload, TEST_APP_SECRET), "content-type": "application/json"}
    assert httpx.post(local.url + "/webhooks/whatsapp", content=payload, headers=headers, timeout=30).status_code == 200
    assert not wait or local.runtime.queues.get("inbound").wait_idle(timeout=120)


def media_urls(http: httpx.Client) -> list[str]:
    [conversation] = http.get("/conversations").json()["items"]
    messages = http.get(f"/conversations/{conversation['id']}/messages").json()["items"]
    return [m["url"] for message in messages for m in message["media"] if "url" in m]


@pytest.fixture
def http(inbox: Client) -> Iterator[httpx.Client]:
    with api(inbox) as client:
        yield client


def test_an_image_is_served_to_its_tenant_only(
    local: RunningRuntime, inbox: Client, http: httpx.Client, graph: FakeGraph, model: FakeAnthropic,
    client_for: Callable[..., Client],
) -> None:  # fmt: skip
    picture = png()
    customer_sends(local, inbox, graph, "image", "media-img-1", picture, "image/png", caption="my tooth")
    [url] = media_urls(http)
    response = httpx.get(inbox.url + url, headers=http.headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.content == picture and response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("inline;")

    assert httpx.get(inbox.url + url, timeout=30).status_code == 401
    foreign = httpx.get(inbox.url + url, headers={"authorization": f"Bearer {client_for().token}"}, timeout=30)
    assert foreign.status_code == 403 and picture not in foreign.content
    assert http.get(url.replace("/media/0", "/media/1").split(inbox.tenant.slug, 1)[1]).status_code == 404


def test_a_row_naming_another_tenants_blob_reads_nothing(
    local: RunningRuntime, inbox: Client, http: httpx.Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    customer_sends(local, inbox, graph, "image", "media-img-2", png(), "image/png")
    secret = b"another tenant's contract"
    blob_store().put("tvictim00/media/whatsapp/00/contract", secret)
    with tenant_tx(inbox.tenant.slug) as conn:  # as if a row had been written with a hostile key
        conn.execute("UPDATE inbound_events SET payload = jsonb_set(payload, '{media,0,blob_key}',"
                     " '\"tvictim00/media/whatsapp/00/contract\"') WHERE payload ? 'media'")  # fmt: skip
    [url] = media_urls(http)
    response = httpx.get(inbox.url + url, headers=http.headers, timeout=30)
    assert response.status_code == 404 and secret not in response.content


def test_a_hostile_file_name_and_html_mime_type_stay_an_inert_download(
    local: RunningRuntime, inbox: Client, http: httpx.Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    page = b"<html><script>document.cookie</script></html>"
    customer_sends(local, inbox, graph, "document", "media-doc-1", page, "text/html", filename=HOSTILE_NAME)
    [url] = media_urls(http)
    response = httpx.get(inbox.url + url, headers=http.headers, timeout=30)
    assert response.status_code == 200 and response.content == page
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    assert "x-injected" not in response.headers
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.count('"') == 2
    assert not any(c in disposition for c in "<>\r\n/\\")
    assert "filename*=UTF-8''%22%3E%3Cimg%20src%3Dx" in disposition  # the real name, percent-encoded


def test_a_live_pushed_image_is_there_to_preview_the_moment_it_arrives(
    local: RunningRuntime, inbox: Client, http: httpx.Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    """The operator's inbox asks for the preview as soon as the push arrives, while Ingest may still be working:
    the push comes after the blob is stored, with its preview URL, once."""
    picture = png(5, 5)
    model.script_text("Nice picture")
    ws, _ = connect_operator(local, inbox)
    with ws:
        customer_sends(local, inbox, graph, "image", "media-live-1", picture, "image/png", wait=False, caption="look")
        deadline, pushed, previews = time.monotonic() + 60, [], []
        while not pushed and time.monotonic() < deadline:
            frame = ws.receive(timeout=30)
            if frame.get("event") == "conversation.message" and frame["payload"]["message"]["author"] == "customer":
                pushed.append(frame["payload"]["message"])
                url = pushed[0]["media"][0].get("url")
                previews += [httpx.get(inbox.url + url, headers=http.headers, timeout=30)] if url else []
        assert local.runtime.queues.get("inbound").wait_idle(timeout=120)
        later = [e["payload"]["message"] for e in [*ws.events, *drain(ws)] if e["event"] == "conversation.message"]
    [message] = pushed
    assert "url" in message["media"][0], message  # pushed before its blob was stored: nothing to preview yet
    assert message["media"][0]["url"].endswith(f"/messages/{message['id'].removeprefix('in:')}/media/0")
    [preview] = previews
    assert preview.status_code == 200 and preview.content == picture
    assert [m for m in later if m["author"] == "customer"] == []  # pushed once, not again without its URL
