"""`clawgate serve`, one production host: nothing of `dev` (no development secrets, no loopback auto-approval, no
offline placeholders), CLAWGATE_DATABASE_URL required, and SIGTERM lets the turn in flight finish and answer."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import yaml
from clawgate.core.meta_webhooks import sign
from clawgate.gateway.client import ControlClient
from clawgate.local.fakes import FakeAnthropic
from clawgate.tenancy.tokens import create_token

from tests.conftest import tenant_data
from tests.e2e.test_durability import Runtime
from tests.runtime import free_port

SLUG = "served"


def test_serve_needs_a_database_url() -> None:
    env = {key: value for key, value in os.environ.items() if key != "CLAWGATE_DATABASE_URL"}
    done = subprocess.run([sys.executable, "-m", "clawgate.cli", "serve"], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode != 0 and "CLAWGATE_DATABASE_URL" in done.stderr


def test_serve_has_no_dev_shortcuts_and_finishes_the_turn_in_flight_on_sigterm(
    tmp_path: Path, fresh_database: str, model: FakeAnthropic
) -> None:
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(tenant_data(SLUG)))
    env = {**os.environ, "CLAWGATE_DATABASE_URL": fresh_database, "CLAWGATE_PORT": str(free_port()),
           "CLAWGATE_DATA_DIR": str(tmp_path / "data"), "CLAWGATE_DEV_AUTO_APPROVE_LOOPBACK": "1",
           "CLAWGATE_SECRET_FALLBACK": "placeholder"}  # fmt: skip
    env.pop("CLAWGATE_META_APP_SECRET", None)
    runtime = Runtime(tmp_path, env, 1, command="serve")
    try:
        log = runtime.log.read_text()
        assert "sign in" not in log and "cgt_" not in log  # no sign-in link, no token in the log
        body = b'{"object": "whatsapp_business_account", "entry": []}'
        dev_signed = {"x-hub-signature-256": sign(body, "dev-app-secret"), "content-type": "application/json"}
        assert httpx.post(runtime.url + "/webhooks/whatsapp", content=body, headers=dev_signed).status_code == 401
        token = create_token(SLUG)
        with ControlClient(runtime.url.replace("http://", "ws://") + "/ws", timeout=30) as ws:  # from loopback
            assert ws.connect(SLUG, token, "web-served0000001")["error"]["code"] == "device_pending"

        model.responder = lambda request: time.sleep(3) or None  # a turn that is still running at SIGTERM
        answers: list[httpx.Response] = []
        url = f"{runtime.url}/api/v1/tenants/{SLUG}/agents/assistant/run"
        headers = {"authorization": f"Bearer {token}"}
        asking = threading.Thread(
            target=lambda: answers.append(
                httpx.post(url, json={"message": "still there?"}, headers=headers, timeout=60)
            )
        )
        asking.start()
        time.sleep(1.5)
        runtime.process.terminate()  # SIGTERM to the main process, as systemd's KillMode=mixed sends it
        asking.join(60)
        assert runtime.process.wait(60) == 0
        assert [a.status_code for a in answers] == [200]
        assert answers[0].json()["reply"] == "fake reply to: still there?"
    finally:
        model.responder = None
        runtime.stop()
