"""`clawgate agent` in a fresh process: the newcomer's way to talk to an agent without the server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

from clawgate.local.fakes import FakeAnthropic
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile


def test_clawgate_agent_prints_the_reply(
    database: str, model: FakeAnthropic, make_tenant: Callable[..., TenantFile]
) -> None:
    tenant = make_tenant()
    apply_tenant(tenant)
    model.script_text("Hello from the CLI.")
    env = {**os.environ, "CLAWGATE_DATABASE_URL": database}
    done = subprocess.run(
        [sys.executable, "-m", "clawgate.cli", "agent", "--tenant", tenant.slug, "--agent", "director",
         "--message", "hi", "--session", "cli-test"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "Hello from the CLI."
    assert model.message_requests()[-1]["model"] == "claude-opus-4-1"
