"""The web control UI in a real browser: Playwright driving Debian's Chromium (installed here when missing) against
the local runtime. Sign in (the new device is shown as pending until approved), chat with an agent and see the
streamed reply, open the leads table and the metrics chart, on a desktop and a phone screen. Screenshots go to
test-output/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clawgate.cli import main
from clawgate.local.fakes import FakeAnthropic
from clawgate.settings import PROJECT_ROOT

from tests.e2e.conftest import Client
from tests.e2e.test_control_plane import seed_ads_data

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
OUTPUT = PROJECT_ROOT / "test-output"


def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt-get when it is missing (the machines run as root)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("Chromium is missing and cannot be installed here (needs apt-get as root)")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=900,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"installing Chromium failed: {' '.join(command)}: {done.stderr.strip()[-300:]}")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright import sync_api  # a dev dependency: missing, it is an install bug, not a reason to skip

    executable = ensure_chromium()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def websocket_events(page: Any) -> list[dict[str, Any]]:
    """Every event frame the page receives on its control-plane socket."""
    events: list[dict[str, Any]] = []

    def watch(ws: Any) -> None:
        def received(payload: str | bytes) -> None:
            frame = json.loads(payload)
            if frame.get("type") == "event":
                events.append(frame)

        ws.on("framereceived", received)

    page.on("websocket", watch)
    return events


def test_sign_in_chat_with_a_streamed_reply_and_the_leads_table(
    browser: Any, client_for: Callable[..., Client], model: FakeAnthropic
) -> None:
    from playwright.sync_api import expect

    client = client_for()
    slug = client.tenant.slug
    seed_ads_data(slug)
    OUTPUT.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    events = websocket_events(page)
    page.goto(client.url + "/")

    page.fill("input[name=tenant]", slug)
    page.fill("input[name=token]", client.token)
    page.click("button[type=submit]")
    expect(page.locator("#pending")).to_be_visible()
    command = page.locator("#approve-command").inner_text()
    assert command.startswith("clawgate devices approve web-") and command.endswith(f"--tenant {slug}")
    assert main(command.split()[1:]) == 0  # the operator approves the device
    page.reload()
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#status")).to_have_text("connected")

    reply = "Yesterday: spend 50 KZT, 5 leads, 10 KZT per lead. The CTWA ad ad_1 brought Dana."
    model.script_text(reply)
    page.select_option("#agent", "director")
    page.fill("#chat-input", "How did the ads do yesterday?")
    page.keyboard.press("Enter")
    expect(page.locator(".msg.user").last).to_have_text("How did the ads do yesterday?")
    expect(page.locator(".msg.assistant").last).to_have_text(reply, timeout=30_000)  # a cold first turn is slow
    streamed = [e for e in events if e["event"] in ("chat.delta", "chat.final")]
    assert streamed[0]["event"] == "chat.delta" and streamed[-1]["event"] == "chat.final"
    assert reply.startswith("".join(e["payload"]["text"] for e in streamed if e["event"] == "chat.delta"))
    page.screenshot(path=str(OUTPUT / "web_ui_chat.png"), full_page=True)

    page.click("#tabs button[data-tab=leads]")
    dana = page.locator("#leads-table tbody tr", has_text="Dana")
    expect(dana).to_contain_text("ctwa")
    expect(dana).to_contain_text("ad_1")
    expect(dana).to_contain_text("interested")
    expect(dana).to_contain_text("Is Saturday free?")
    expect(page.locator("#leads-table tbody tr")).to_have_count(3)
    page.screenshot(path=str(OUTPUT / "web_ui_leads.png"), full_page=True)

    page.click("#tabs button[data-tab=metrics]")
    expect(page.locator("#chart svg rect.bar")).to_have_count(3)
    expect(page.locator("#metrics-totals")).to_contain_text("100 KZT spent · 3 leads")
    expect(page.locator("#usage-text")).to_contain_text("of $20.00 today")
    page.screenshot(path=str(OUTPUT / "web_ui_metrics.png"), full_page=True)
    context.close()


def test_the_ui_fits_a_phone_screen(browser: Any, client_for: Callable[..., Client]) -> None:
    from clawgate.db import registry_tx
    from clawgate.gateway.data import devices
    from playwright.sync_api import expect

    client = client_for()
    seed_ads_data(client.tenant.slug)
    device = "web-phone0000test"
    with registry_tx() as conn:
        devices.register(conn, client.tenant.slug, device, "phone", approve=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.add_init_script(
        f"localStorage.setItem('clawgate.device', '{device}');"
        f"localStorage.setItem('clawgate.tenant', '{client.tenant.slug}');"
        f"localStorage.setItem('clawgate.token', '{client.token}');"
    )
    page = context.new_page()
    page.goto(client.url + "/")
    expect(page.locator("#app")).to_be_visible()
    page.click("#tabs button[data-tab=dialogs]")
    expect(page.locator("#dialogs-table tbody tr")).to_have_count(2)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # wide tables scroll inside their box, the page does not
    page.screenshot(path=str(OUTPUT / "web_ui_phone.png"), full_page=True)
    page.click("#tabs button[data-tab=metrics]")
    expect(page.locator("#chart svg rect.bar")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(OUTPUT / "web_ui_phone_metrics.png"), full_page=True)
    context.close()


def test_the_sign_in_link_signs_in_and_leaves_no_token_in_the_address_bar(
    browser: Any, client_for: Callable[..., Client]
) -> None:
    """`make dev` prints /#tenant=…&token=…: the UI signs in from it, keeps it for the tab only and erases it."""
    from clawgate.db import registry_tx
    from clawgate.gateway.data import devices
    from playwright.sync_api import expect

    client = client_for()
    device = "web-link0000test"
    with registry_tx() as conn:
        devices.register(conn, client.tenant.slug, device, "link", approve=True)
    context = browser.new_context()
    context.add_init_script(f"localStorage.setItem('clawgate.device', '{device}');")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{client.url}/#tenant={client.tenant.slug}&token={client.token}")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#status")).to_have_text("connected")
    assert client.token not in page.url and "#" not in page.url
    assert page.evaluate("sessionStorage.getItem('clawgate.token')") == client.token
    assert page.evaluate("localStorage.getItem('clawgate.token')") is None
    assert not any(client.token in url for url in requests)  # a fragment is never sent
    context.close()
