"""The inbox's media previews as AWS serves them: the blob store is S3 (moto's server on loopback, reached through
boto3 as Lambda reaches S3), and after the same token and tenant checks the route answers 302 to a presigned URL of a
minute that S3 answers with the safe Content-Type and Content-Disposition, whatever the customer's file claimed to be.
A plain HTTP client follows it, as a browser would; another tenant's token, or a row naming a blob outside the
tenant's prefix, gets no URL at all. Every AWS call of the handlers is checked against the synthesized IAM policies:
signing the URL needs the operator API's s3:GetObject on the media area. In Chromium, the inbox under the CSP the
deployment writes (infra/web_csp.py) shows the preview read from S3's origin, without the token (moto's server
answers CORS for any origin: the bucket's own rule is asserted on the template, tests/infra/test_web_ui_origins.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from clawgate.conversations import live
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic, FakeGraph
from clawgate.settings import reset_settings

from tests.e2e.conftest import Client
from tests.e2e.test_inbox import api, inbox
from tests.e2e.test_inbox_media import HOSTILE_NAME, customer_sends, media_urls, png
from tests.e2e.test_web_inbox import signed_in_phone
from tests.e2e.test_web_ui import OUTPUT, browser
from tests.runtime import RunningRuntime, free_port

__all__ = ["browser", "inbox"]
LINK_TYPE = "application/vnd.clawgate.media-link+json"


@dataclass(frozen=True)
class S3:
    url: str
    bucket: str
    client: Any


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server: str, local: RunningRuntime) -> Iterator[S3]:
    """The runtime's blob store is the bucket (CLAWGATE_BLOB_BUCKET, as the functions' environment says in AWS)."""
    bucket = f"clawgate-blobs-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as env:
        for name, value in {"AWS_ENDPOINT_URL_S3": s3_server, "AWS_ACCESS_KEY_ID": "testing",
                            "AWS_SECRET_ACCESS_KEY": "testing", "CLAWGATE_BLOB_BUCKET": bucket}.items():  # fmt: skip
            env.setenv(name, value)
        reset_settings()
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=bucket)
        try:
            yield S3(s3_server, bucket, client)
        finally:
            reset_settings()
    reset_settings()


@pytest.fixture
def http(inbox: Client) -> Iterator[httpx.Client]:
    with api(inbox) as client:
        yield client


def preview(inbox: Client, url: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(inbox.url + url, headers=headers, timeout=30, follow_redirects=False)


@pytest.mark.iam_checked  # signing needs s3:GetObject on the media area in the operator API's policy
def test_a_preview_is_a_redirect_to_a_presigned_url_that_serves_safe_headers(
    local: RunningRuntime, inbox: Client, http: httpx.Client, graph: FakeGraph, model: FakeAnthropic, s3: S3
) -> None:
    picture, page = png(), b"<html><script>document.cookie</script></html>"
    customer_sends(local, inbox, graph, "image", "media-s3-img", picture, "image/png", caption="my tooth")
    customer_sends(local, inbox, graph, "document", "media-s3-doc", page, "text/html", filename=HOSTILE_NAME)
    image_url, document_url = media_urls(http)

    answer = preview(inbox, image_url, dict(http.headers))
    assert answer.status_code == 302 and answer.headers["cache-control"] == "no-store"
    location = answer.headers["location"]
    assert location.startswith(f"{s3.url}/{s3.bucket}/{inbox.tenant.slug}/media/whatsapp/")
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["60"]
    assert picture not in answer.content
    image = httpx.get(location, timeout=30)  # no token: the URL is the credential
    assert image.status_code == 200 and image.content == picture
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith('inline; filename="image"')

    key = urlsplit(preview(inbox, document_url, dict(http.headers)).headers["location"]).path.split("/", 2)[2]
    assert s3.client.get_object(Bucket=s3.bucket, Key=key)["ContentType"] == "text/html"  # as the customer said
    document = httpx.get(preview(inbox, document_url, dict(http.headers)).headers["location"], timeout=30)
    assert document.status_code == 200 and document.content == page
    assert document.headers["content-type"] == "application/octet-stream"  # never rendered as HTML
    disposition = document.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.count('"') == 2
    assert not any(c in disposition for c in "<>\r\n/\\") and "x-injected" not in document.headers
    assert "filename*=UTF-8''%22%3E%3Cimg%20src%3Dx" in disposition


def test_the_web_ui_gets_the_presigned_url_as_json(
    local: RunningRuntime, inbox: Client, http: httpx.Client, graph: FakeGraph, model: FakeAnthropic, s3: S3
) -> None:
    picture = png(2, 2)
    customer_sends(local, inbox, graph, "image", "media-s3-link", picture, "image/png")
    [url] = media_urls(http)
    answer = preview(inbox, url, {**http.headers, "accept": LINK_TYPE})
    assert answer.status_code == 200 and answer.headers["content-type"] == LINK_TYPE
    link = answer.json()
    assert link["expires_in"] == 60 and answer.headers["cache-control"] == "no-store"
    assert httpx.get(link["url"], timeout=30).content == picture


def test_another_tenants_token_gets_no_url(
    local: RunningRuntime, inbox: Client, http: httpx.Client, graph: FakeGraph, model: FakeAnthropic, s3: S3,
    client_for: Callable[..., Client],
) -> None:  # fmt: skip
    customer_sends(local, inbox, graph, "image", "media-s3-foreign", png(), "image/png")
    [url] = media_urls(http)
    for headers in ({"authorization": f"Bearer {client_for().token}"}, {}, {"authorization": "Bearer cgt_forged"}):
        answer = preview(inbox, url, headers)
        assert answer.status_code in (401, 403), answer.text
        assert "location" not in answer.headers and s3.bucket not in answer.text and "X-Amz" not in answer.text


def test_a_row_naming_a_blob_outside_the_tenant_prefix_gets_no_url(
    local: RunningRuntime, inbox: Client, http: httpx.Client, graph: FakeGraph, model: FakeAnthropic, s3: S3
) -> None:
    customer_sends(local, inbox, graph, "image", "media-s3-hostile", png(), "image/png")
    s3.client.put_object(Bucket=s3.bucket, Key="tvictim00/media/whatsapp/00/contract", Body=b"a contract")
    [url] = media_urls(http)
    slug = inbox.tenant.slug
    for hostile in ("tvictim00/media/whatsapp/00/contract", f"{slug}/media/../../tvictim00/media/whatsapp/00/contract",
                    f"{slug}//tvictim00", "/tvictim00/media/whatsapp/00/contract"):  # fmt: skip
        with tenant_tx(slug) as conn:  # as if a row had been written with a hostile key
            conn.execute("UPDATE inbound_events SET payload = jsonb_set(payload, '{media,0,blob_key}',"
                         " to_jsonb(%s::text)) WHERE payload ? 'media'", (hostile,))  # fmt: skip
        for accept in ("*/*", LINK_TYPE):
            answer = preview(inbox, url, {**http.headers, "accept": accept})
            assert answer.status_code == 404, (hostile, answer.text)
            assert "location" not in answer.headers and "X-Amz" not in answer.text and "contract" not in answer.text


@pytest.fixture
def deployed_page(local: RunningRuntime, s3: S3, tmp_path: Path) -> Iterator[None]:
    """The runtime serves index.html with the policy the deployment writes, S3 on an origin of its own (the page's
    other files as they are)."""
    from clawgate.local import server

    from infra.web_csp import WebOrigins, deployed_index

    origins = WebOrigins(api=local.url, websocket=local.url.replace("http", "ws", 1), blobs=s3.url)
    (tmp_path / "index.html").write_text(deployed_index((server.WEB_DIR / "index.html").read_text(), origins))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server, "WEB_DIR", tmp_path)
        yield


def test_the_inbox_shows_a_preview_read_from_s3_under_the_deployed_csp(
    browser: Any, local: RunningRuntime, inbox: Client, http: httpx.Client, graph: FakeGraph, model: FakeAnthropic,
    s3: S3, deployed_page: None,
) -> None:  # fmt: skip
    from playwright.sync_api import expect

    user = "US.77010000701"
    customer_sends(local, inbox, graph, "image", "web-s3-img", png(40, 30), "image/png", user, caption="my tooth")
    customer_sends(local, inbox, graph, "document", "web-s3-doc", b"<script>parent.pwned=1</script>", "text/html",
                   user, filename=HOSTILE_NAME)  # fmt: skip
    page = signed_in_phone(browser, inbox)
    from_s3: list[dict[str, str]] = []
    page.on("request", lambda r: from_s3.append(r.all_headers()) if r.url.startswith(s3.url) else None)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.click("#tabs button[data-tab=inbox]")
    page.locator("#inbox-list .conversation", has_text="77010000701").click()
    transcript = page.locator("#inbox-transcript")
    expect(transcript.locator(".media.image img.thumb")).to_be_visible()
    page.wait_for_function("document.querySelector('#inbox-transcript img.thumb').naturalWidth === 40")
    download = transcript.locator(".media.document a.download")
    expect(download).to_have_count(1)
    assert transcript.locator("img.thumb").get_attribute("src", timeout=5_000).startswith("blob:")
    assert len(from_s3) == 2 and blocked == []  # both read from S3's origin, the CSP admitting it
    assert all("authorization" not in h and h.get("origin") == local.url for h in from_s3), from_s3  # no token
    assert page.evaluate("window.pwned") is None and inbox.token not in page.inner_html("#inbox-transcript")
    page.screenshot(path=str(OUTPUT / "web_inbox_phone_media_s3.png"), full_page=True)

    # The push of a message the transcript already shows (it was read while Ingest stored the file) replaces it.
    [conversation] = http.get("/conversations").json()["items"]
    image = http.get(f"/conversations/{conversation['id']}/messages").json()["items"][0]
    with tenant_tx(inbox.tenant.slug) as conn:
        live.message(conn, inbox.tenant.slug, conversation["id"], image | {"text": "my tooth, again"})
    expect(transcript).to_contain_text("my tooth, again")  # the push arrived
    expect(transcript.locator(".media.image img.thumb")).to_have_count(1)
    expect(transcript.locator("li.msg.customer")).to_have_count(2)
    page.context.close()
