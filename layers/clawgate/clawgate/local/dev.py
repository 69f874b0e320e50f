"""`clawgate dev`: the embedded database, the tenant files, the runtime and the HTTP server, stopped cleanly on
Ctrl-C. A second run reuses the data under .clawgate/."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

from clawgate.observability import logger
from clawgate.secrets import OFFLINE_FALLBACK
from clawgate.settings import reset_settings

DEV_DEFAULTS = {"CLAWGATE_META_APP_SECRET": "dev-app-secret", "CLAWGATE_META_VERIFY_TOKEN": "dev-verify-token",
                "CLAWGATE_DEV_AUTO_APPROVE_LOOPBACK": "1"}  # fmt: skip


def _dev_defaults() -> None:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # EMF is for CloudWatch; set false to see it
    for name, value in DEV_DEFAULTS.items():
        if not os.environ.get(name):
            os.environ[name] = value
            print(f"clawgate dev: {name} is not set; using {value!r} for local testing")
    reset_settings()


def _start_offline_fakes(stack: ExitStack) -> None:
    """`--offline`: Meta's Graph API, Telegram's Bot API, Slack's Web API and Discord's REST API answered by the
    loopback fakes, and every `secret:` reference given a placeholder, so the whole product runs with no network and
    no credentials."""
    from clawgate.local.fakes import FakeDiscord, FakeGraph, FakeSlack, FakeTelegram

    fakes = {
        "CLAWGATE_GRAPH_URL": ("Graph API", FakeGraph()),
        "CLAWGATE_TELEGRAM_API_URL": ("Telegram", FakeTelegram()),
        "CLAWGATE_SLACK_API_URL": ("Slack", FakeSlack()),
        "CLAWGATE_DISCORD_API_URL": ("Discord", FakeDiscord()),
    }
    for variable, (_, fake) in fakes.items():
        os.environ[variable] = stack.enter_context(fake).url
    os.environ.setdefault(OFFLINE_FALLBACK, "offline-placeholder")
    reset_settings()
    served = ", ".join(f"{name} at {fake.url}" for name, fake in fakes.values())
    print(f"clawgate dev --offline: {served} (loopback fakes)")


def serve(tenant_files: list[Path], offline: bool = False) -> int:
    with ExitStack() as stack:
        if offline:
            _start_offline_fakes(stack)
        return _serve(tenant_files)


def _serve(tenant_files: list[Path]) -> int:
    import uvicorn

    from clawgate.db import close_pool
    from clawgate.db.migrate import ensure_platform
    from clawgate.local.postgres import ensure_database_url
    from clawgate.local.runtime import LocalRuntime
    from clawgate.local.server import build_app
    from clawgate.settings import get_settings
    from clawgate.tenancy.apply import apply_tenant
    from clawgate.tenancy.model import load_tenant_file

    _dev_defaults()
    ensure_database_url()
    ensure_platform()
    for path in tenant_files:
        result = apply_tenant(load_tenant_file(path))
        print(f"clawgate dev: tenant {result.slug}: {'; '.join(result.changes) or 'unchanged'}")
    from clawgate.agent.providers import anthropic_configured

    if not anthropic_configured():
        print("clawgate dev: no ANTHROPIC_API_KEY: Anthropic agents answer with the offline stand-in model")
    runtime = LocalRuntime()
    from clawgate.jobs.scheduler import LocalScheduler

    scheduler = LocalScheduler().start()  # the tenants' job schedules, in their timezones
    port = get_settings().port
    print(f"clawgate dev: serving on http://127.0.0.1:{port} (Ctrl-C stops)")
    try:
        uvicorn.run(build_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    finally:
        scheduler.stop()
        runtime.close()
        close_pool()
        logger.info("clawgate dev stopped")
    return 0
