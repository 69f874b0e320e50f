"""`clawgate dev` and `clawgate serve`: the database, the tenant files, the runtime, its worker processes and the HTTP
server, in one process tree that stops as a whole.

- `dev` is the laptop: an embedded PostgreSQL under .clawgate/ unless CLAWGATE_DATABASE_URL is set, development
  secrets, control-UI devices on loopback approved without asking, `--offline` fakes for Meta, Telegram and the
  model, and a sign-in link for the first tenant file.
- `serve` is one production host: CLAWGATE_DATABASE_URL is required, and none of the above.

SIGINT and SIGTERM stop accepting requests, let the requests and turns in flight finish, stop the workers, then
whatever this process started (the embedded PostgreSQL included)."""

from __future__ import annotations

import os
import secrets
import signal
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from clawgate.local.workers import WORKER_NICENESS
from clawgate.observability import logger
from clawgate.secrets import OFFLINE_FALLBACK
from clawgate.settings import get_settings, reset_settings

if TYPE_CHECKING:
    from clawgate.local.fakes import FakeGraph

DEV_DEFAULTS = {"CLAWGATE_META_APP_SECRET": "dev-app-secret", "CLAWGATE_META_VERIFY_TOKEN": "dev-verify-token",
                "CLAWGATE_DEV_AUTO_APPROVE_LOOPBACK": "1"}  # fmt: skip
SIGN_IN_LABEL = "clawgate dev sign-in link"
GRACE_S = 330.0  # a turn runs up to five minutes


@dataclass(frozen=True)
class Mode:
    name: str  # "dev" | "serve"
    workers: int = 1
    worker_niceness: int = WORKER_NICENESS
    offline: bool = False
    host: str = "127.0.0.1"

    @property
    def production(self) -> bool:
        return self.name == "serve"


def _say(mode: Mode, text: str) -> None:
    print(f"clawgate {mode.name}: {text}", flush=True)


def _dev_defaults(mode: Mode) -> None:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # EMF is for CloudWatch; set false to see it
    for name, value in DEV_DEFAULTS.items():
        if not os.environ.get(name):
            os.environ[name] = value
            _say(mode, f"{name} is not set; using {value!r} for local testing")
    reset_settings()


def _production_settings(mode: Mode) -> None:
    """What only `dev` may do is switched off, whatever the environment says."""
    if not os.environ.get("CLAWGATE_DATABASE_URL"):
        raise SystemExit("clawgate serve: set CLAWGATE_DATABASE_URL (the PostgreSQL this host runs on)")
    os.environ.pop("CLAWGATE_DEV_AUTO_APPROVE_LOOPBACK", None)
    os.environ.pop(OFFLINE_FALLBACK, None)
    reset_settings()
    for name in ("CLAWGATE_META_APP_SECRET", "CLAWGATE_META_VERIFY_TOKEN"):
        if not os.environ.get(name):
            _say(mode, f"{name} is not set: Meta webhooks will be refused")


def _start_offline_fakes(mode: Mode, stack: ExitStack) -> FakeGraph:
    """`--offline`: Meta's Graph API, the Instagram API, Telegram's Bot API, Slack's Web API, Discord's REST API and
    (without a model key) the model answered by loopback fakes, and every `secret:` reference given a placeholder, so
    the whole product runs with no network and no credentials. Returns the Graph fake (the demo seeds it)."""
    from clawgate.agent.providers import anthropic_configured
    from clawgate.local.demo import demo_model
    from clawgate.local.fakes import FakeDiscord, FakeGraph, FakeInstagram, FakeSlack, FakeTelegram

    fakes = {
        "CLAWGATE_GRAPH_URL": ("Graph API", FakeGraph()),
        "CLAWGATE_INSTAGRAM_API_URL": ("Instagram API", FakeInstagram()),
        "CLAWGATE_TELEGRAM_API_URL": ("Telegram", FakeTelegram()),
        "CLAWGATE_SLACK_API_URL": ("Slack", FakeSlack()),
        "CLAWGATE_DISCORD_API_URL": ("Discord", FakeDiscord()),
    }
    for variable, (_, fake) in fakes.items():
        fake.keep_requests = False  # a dev runtime may run for days
        os.environ[variable] = stack.enter_context(fake).url
    os.environ.setdefault(OFFLINE_FALLBACK, "offline-placeholder")
    if not anthropic_configured():
        model = stack.enter_context(demo_model())
        os.environ["ANTHROPIC_API_KEY"], os.environ["ANTHROPIC_BASE_URL"] = model.api_key or "", model.url
        _say(mode, f"no ANTHROPIC_API_KEY: agents answer with the offline demo model at {model.url} (labelled)")
    reset_settings()
    served = ", ".join(f"{name} at {fake.url}" for name, fake in fakes.values())
    _say(mode, f"--offline: {served} (loopback fakes)")
    graph = fakes["CLAWGATE_GRAPH_URL"][1]
    assert isinstance(graph, FakeGraph)
    return graph


def _database(mode: Mode, stack: ExitStack) -> None:
    if get_settings().database_url:
        return
    from clawgate.local.postgres import embedded_for_runtime

    url = stack.enter_context(embedded_for_runtime(get_settings().data_dir / "pg"))
    os.environ["CLAWGATE_DATABASE_URL"] = url
    reset_settings()
    _say(mode, "embedded PostgreSQL under .clawgate/pg (stopped with this runtime)")


def _apply(mode: Mode, tenant_files: list[Path]) -> list[str]:
    from clawgate.db.migrate import upgrade_all
    from clawgate.tenancy.apply import apply_tenant
    from clawgate.tenancy.model import load_tenant_file

    upgrade_all()  # the registry and every tenant schema, as `clawgate db upgrade`
    slugs = []
    for path in tenant_files:
        result = apply_tenant(load_tenant_file(path))
        slugs.append(result.slug)
        _say(mode, f"tenant {result.slug}: {'; '.join(result.changes) or 'unchanged'}")
    return slugs


def _sign_in_link(mode: Mode, slug: str, port: int) -> None:
    """A link that signs the browser in as the tenant: the token is in the fragment, which browsers never send."""
    from clawgate.tenancy.tokens import replace_token

    token = replace_token(slug, SIGN_IN_LABEL)
    _say(mode, f"sign in to the {slug} tenant: http://127.0.0.1:{port}/#tenant={slug}&token={token}")


def _demo_ads(graph: FakeGraph, slugs: list[str]) -> None:
    """Offline, the tenants' ad accounts get two weeks of made-up insights and one metrics sync: the charts show."""
    from clawgate.local.demo import seed_ads, sync_metrics_soon
    from clawgate.tenancy.tenants import cached_tenant

    for slug in slugs:
        tenant = cached_tenant(slug)
        if tenant.meta is not None and tenant.meta.ad_account_id:
            seed_ads(graph, tenant.meta.ad_account_id, tenant.currency, tenant.timezone)
            sync_metrics_soon(slug)


class _StopRequested:
    """SIGINT/SIGTERM after the server has let go of them (uvicorn passes them on when it exits): remembered, so
    the shutdown is never cut short by a second Ctrl-C or a default handler."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, signum: int, _: FrameType | None) -> None:
        self.count += 1
        if self.count > 1:
            print("clawgate: still finishing the turns in flight…", file=sys.stderr, flush=True)

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self)


def run(mode: Mode, tenant_files: list[Path]) -> int:
    import uvicorn

    from clawgate.db import close_pool
    from clawgate.local.runtime import LocalRuntime
    from clawgate.local.server import build_app
    from clawgate.local.workers import WorkerPool

    _StopRequested().install()
    with ExitStack() as stack:
        if mode.production:
            _production_settings(mode)
        else:
            _dev_defaults(mode)
        graph = _start_offline_fakes(mode, stack) if mode.offline else None
        _database(mode, stack)
        stack.callback(close_pool)
        slugs = _apply(mode, tenant_files)
        port = get_settings().port
        runtime = LocalRuntime(role="server" if mode.workers else "all")
        stack.callback(runtime.close)  # in-process consumers finish their batches
        key = secrets.token_urlsafe(32)
        if mode.workers:
            workers = WorkerPool(mode.workers, f"http://127.0.0.1:{port}", key, mode.worker_niceness).start()
            stack.callback(workers.stop, GRACE_S)
        from clawgate.jobs.scheduler import LocalScheduler

        scheduler = LocalScheduler().start()  # the tenants' job schedules, in their timezones
        stack.callback(scheduler.stop)
        if graph is not None:
            _demo_ads(graph, slugs)
        if slugs and not mode.production:
            _sign_in_link(mode, slugs[0], port)
        _say(mode, f"serving on http://{mode.host}:{port} with {mode.workers} worker process(es) (Ctrl-C stops)")
        config = uvicorn.Config(
            build_app(runtime, key), host=mode.host, port=port, log_level="warning",
            timeout_graceful_shutdown=int(GRACE_S), proxy_headers=mode.production,
        )  # fmt: skip
        uvicorn.Server(config).run()
        _say(mode, "stopping: finishing the turns in flight")
    logger.info(f"clawgate {mode.name} stopped")
    _say(mode, "stopped")
    return 0
