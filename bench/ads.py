"""Ads management figures: metrics sync of 500 ads × 30 days against the fake Graph (the real SDK: async insights
report, cursor paging; then the upserts into metrics_history), morning and weekly report generation (text and PNG
chart, then delivery to the fake Telegram), and the tokens one scheduled run costs (a heartbeat turn and a
creative-test analysis against the fake model, which estimates tokens as characters / 4)."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from typing import Any

from clawgate.db import tenant_tx
from clawgate.jobs.metrics import sync_metrics
from clawgate.jobs.reports import build_report, send_report
from clawgate.jobs.runner import JobRequest, run_job
from clawgate.local.fakes import FakeAnthropic, FakeGraph, FakeTelegram, RecordedRequest, Response
from clawgate.meta.marketing.context import load_context
from clawgate.settings import reset_settings
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import parse_tenant

from bench.database import bench_database_url

SLUG = "bench_ads"
ACCOUNT = "act_900000000001"
ADS, ADSETS, DAYS = 500, 50, 30
UNTIL = date(2026, 5, 31)
BOT = "7000000009:AAbench"
LEAD_ACTION = "onsite_conversion.messaging_conversation_started_7d"
TENANT = {
    "slug": SLUG, "name": "Bench Dental", "timezone": "Asia/Almaty", "currency": "KZT", "budget": {"daily_usd": 1000},
    "agents": [{"id": "director", "name": "Klod", "model": "anthropic/claude-sonnet-4-5"}],
    "channels": {"telegram": [{"agent": "director", "bot_token": "secret:bench/bot", "dm_policy": "allowlist",
                               "allow_from": [1001], "operator": True}]},
    "meta": {"ad_account_id": ACCOUNT, "access_token": "secret:bench/meta"},
    "ads": {"heartbeat": True, "account_daily_cap": 10_000_000},
}  # fmt: skip


def insight(level: str, object_id: str, adset: str, day: date, i: int) -> dict[str, Any]:
    leads = i % 4
    return {"date_start": day.isoformat(), "date_stop": day.isoformat(), "campaign_id": "c1", "adset_id": adset,
            f"{level}_id": object_id, "impressions": str(1000 + i), "clicks": str(20 + i % 7),
            "spend": f"{1500 + i % 300}.25", "ctr": "2.1", "cpm": "1500.4", "optimization_goal": "CONVERSATIONS",
            "actions": [{"action_type": LEAD_ACTION, "value": str(leads)}]}  # fmt: skip


class TimedGraph(FakeGraph):
    """The fake Graph, timing its own request handling (it rebuilds every stored row per page: its cost, not ours)."""

    seconds = 0.0

    def handle(self, request: RecordedRequest) -> Response:
        started = time.perf_counter()
        try:
            return super().handle(request)
        finally:
            TimedGraph.seconds += time.perf_counter() - started


def seed(graph: FakeGraph) -> None:
    days = [UNTIL - timedelta(days=n) for n in range(DAYS)]
    ads = [insight("ad", f"ad{i}", f"as{i % ADSETS}", day, i) for i in range(ADS) for day in days]
    adsets = [insight("adset", f"as{i}", f"as{i}", day, i) for i in range(ADSETS) for day in days]
    graph.add_insights(ACCOUNT, ads, level="ad")
    graph.add_insights(ACCOUNT, adsets, level="adset")
    account = ACCOUNT.removeprefix("act_")
    graph.add_object(ACCOUNT, "adaccount", name="Bench", currency="KZT", timezone_name="Asia/Almaty")
    for i in range(ADSETS):  # the ad sets and ads metrics sync saves with their state
        graph.add_object(
            f"as{i}",
            "adset",
            account_id=account,
            name=f"Ad set {i}",
            status="ACTIVE",
            effective_status="ACTIVE",
            optimization_goal="CONVERSATIONS",
            daily_budget="1000000",
        )
    for i in range(ADS):
        graph.add_object(f"ad{i}", "ad", account_id=account, name=f"Ad {i}", adset_id=f"as{i % ADSETS}",
                         status="ACTIVE", effective_status="ACTIVE")  # fmt: skip


def metrics_sync() -> None:
    since = UNTIL - timedelta(days=DAYS - 1)
    runs, ours = [], []
    for _ in range(3):
        TimedGraph.seconds = 0.0
        started = time.perf_counter()
        counts = sync_metrics(SLUG, since, UNTIL)
        runs.append(time.perf_counter() - started)
        ours.append(runs[-1] - TimedGraph.seconds)
    rows = sum(counts.values())
    with tenant_tx(SLUG, "ro") as conn:
        stored = conn.execute("SELECT count(*) FROM metrics_history").fetchone()
    print(f"== metrics sync: {ADS} ads + {ADSETS} ad sets × {DAYS} days against the fake Graph ==")
    print(f"  rows per run {rows:,} (stored {stored[0] if stored else 0:,}: re-runs upsert, never duplicate)")
    print(f"  wall time: first run {runs[0]:.2f} s, re-runs {statistics.median(runs[1:]):.2f} s")
    print(f"  our side (wall minus the fake's handling): first {ours[0]:.2f} s, re-runs"
          f" {statistics.median(ours[1:]):.2f} s = {rows / statistics.median(ours[1:]):,.0f} rows/s"
          f" (async report, pages of 500, SDK objects, upserts)")  # fmt: skip


def reports(telegram: FakeTelegram) -> None:
    ctx = load_context(SLUG)
    print("== report generation (text + PNG chart; from metrics_history) ==")
    for kind in ("morning", "weekly"):
        build_report(ctx, kind, UNTIL)  # warm
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            report = build_report(ctx, kind, UNTIL)
            timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        send_report(ctx, report, UNTIL)
        sent = time.perf_counter() - started
        print(f"  {kind:<8} build {statistics.median(timings) * 1000:6.1f} ms (chart {len(report.chart):,} bytes,"
              f" {report.chart_days} days), send to fake Telegram {sent * 1000:5.1f} ms")  # fmt: skip
    assert telegram.sent_photos(1001)


def scheduled_tokens(model: FakeAnthropic) -> None:
    from clawgate.local.runtime import LocalRuntime

    runtime = LocalRuntime()
    try:
        model.script_text("HEARTBEAT_OK")
        run_job(JobRequest(tenant=SLUG, job="heartbeat"))
    finally:
        runtime.close()
    with tenant_tx(SLUG, "ro") as conn:
        rows = conn.execute(
            "SELECT t.peer_id, sum(u.input_tokens), sum(u.output_tokens), sum(u.cache_read_tokens),"
            " sum(u.cache_write_tokens), sum(u.cost_usd), count(*) FROM usage u JOIN turns t ON t.id = u.turn_id"
            " WHERE t.channel = 'schedule' GROUP BY 1"
        ).fetchall()
    request = model.message_requests()[-1]
    print("== tokens per scheduled run (fake model: characters / 4) ==")
    tools = request.get("tools", [])
    print(f"  prompt: system {sum(len(b['text']) for b in request['system']):,} chars, {len(tools)} tools offered on"
          f" the schedule channel ({len(json.dumps(tools)):,} chars of schema)")  # fmt: skip
    for peer, tokens_in, tokens_out, cache_read, cache_write, cost, calls in rows:
        print(f"  {peer}: {calls} model call(s), input {tokens_in:,} + cache write {cache_write:,} + cache read"
              f" {cache_read:,}, output {tokens_out:,} tokens, ${cost:.4f} (sonnet prices)")  # fmt: skip


def main() -> None:
    bench_database_url()
    with TimedGraph() as graph, FakeTelegram(token=BOT) as telegram, FakeAnthropic() as model:
        os.environ.update(
            CLAWGATE_GRAPH_URL=graph.url, CLAWGATE_TELEGRAM_API_URL=telegram.url, ANTHROPIC_API_KEY="bench",
            ANTHROPIC_BASE_URL=model.url, CLAWGATE_DATA_DIR=tempfile.mkdtemp(), CLAWGATE_SECRET_BENCH_BOT=BOT,
            CLAWGATE_SECRET_BENCH_META="bench-meta-token",
        )  # fmt: skip
        reset_settings()
        from clawgate.db.migrate import ensure_platform

        ensure_platform()
        apply_tenant(parse_tenant(TENANT))
        seed(graph)
        metrics_sync()
        reports(telegram)
        scheduled_tokens(model)


if __name__ == "__main__":
    main()
