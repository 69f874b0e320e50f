"""A newcomer's minute: `clawgate dev --offline` (what `make dev` runs) prints a sign-in link for the demo tenant,
and `clawgate demo` plays a Click-to-WhatsApp conversation through signed webhooks and the offline fakes: the
dialog is tied to the ad and qualified, the lead is there, the Conversions API events went out, and the metrics
the charts draw were synced from the (fake) Marketing API."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import httpx
from clawgate.db import tenant_tx
from clawgate.local.demo import DEMO_AD_ID, play, wait_until_idle
from clawgate.settings import PROJECT_ROOT

from tests.e2e.test_durability import Runtime
from tests.runtime import free_port

DEMO_SECRET = "demo-test-app-secret"


def rows(sql: str) -> list[tuple[Any, ...]]:
    with tenant_tx("demo") as conn:
        return conn.execute(sql).fetchall()


def test_make_dev_signs_in_and_clawgate_demo_fills_the_ui(tmp_path: Path, fresh_database: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANTHROPIC_", "CLAWGATE_SECRET"))}
    env |= {"CLAWGATE_DATABASE_URL": fresh_database, "CLAWGATE_PORT": str(free_port()),
            "CLAWGATE_DATA_DIR": str(tmp_path / "data"), "CLAWGATE_META_APP_SECRET": DEMO_SECRET}  # fmt: skip
    runtime = Runtime(tmp_path, env, 1, "--offline", tenant_file=str(PROJECT_ROOT / "tenants" / "demo.yaml"))
    try:
        link = re.search(r"http://127\.0\.0\.1:\d+/#tenant=demo&token=(cgt_[\w-]+)", runtime.log.read_text())
        assert link, "no sign-in link printed"
        token = link.group(1)

        assert play(runtime.url, DEMO_SECRET, "106540352242922", pause_s=1.0) == [200, 200, 200]
        assert wait_until_idle(runtime.url, timeout=120)
        [dialog] = rows("SELECT ad_id, qualification, capi_msg_count FROM wa_dialogs")
        assert dialog == (DEMO_AD_ID, "scheduled", 3)
        assert rows("SELECT source, ad_id FROM leads") == [("ctwa", DEMO_AD_ID)]
        events = rows("SELECT level, event_name, status FROM capi_events_log ORDER BY level")
        assert [(level, status) for level, _, status in events] == [(1, "sent"), (2, "sent"), (3, "sent")]

        headers = {"authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 60
        while True:  # the metrics sync runs in the background at start
            summary = httpx.get(f"{runtime.url}/api/v1/tenants/demo/metrics?days=14", headers=headers).json()
            if summary["days"] or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert len(summary["days"]) == 14 and summary["leads"] > 0 and summary["spend"] > 0
        replies = httpx.get(f"{runtime.url}/api/v1/tenants/demo/dialogs", headers=headers).json()["items"]
        assert replies[0]["last_message"].startswith("[offline demo model]")  # labelled, never mistaken for a model
    finally:
        runtime.stop()
