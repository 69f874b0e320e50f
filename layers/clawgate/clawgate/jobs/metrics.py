"""Metrics sync: daily insights per ad set and per ad into `metrics_history`. `(date, level, object_id)` is unique,
so a sync is an upsert and re-running one changes nothing but fresher numbers (Meta keeps attributing conversions
for days: each run refreshes the last `days` days, today included). Mapping sync is the attribution side's
(meta.mapping_sync), run on its own schedule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from clawgate.db import Conn, tenant_tx
from clawgate.meta.marketing.calls import marketing_api
from clawgate.meta.marketing.context import load_context
from clawgate.meta.marketing.insights import InsightRow, Level, fetch_insights

LEVELS: tuple[Level, ...] = ("adset", "ad")
DEFAULT_DAYS = 3
BATCH = 1000
UPSERT = (
    "INSERT INTO metrics_history (date, level, object_id, campaign_id, adset_id, ad_id, impressions, reach, clicks,"
    " spend, ctr, cpm, leads, cost_per_lead, actions, currency) VALUES"
    " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (date, level, object_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id,"
    " adset_id = EXCLUDED.adset_id, ad_id = EXCLUDED.ad_id, impressions = EXCLUDED.impressions,"
    " reach = EXCLUDED.reach, clicks = EXCLUDED.clicks, spend = EXCLUDED.spend, ctr = EXCLUDED.ctr,"
    " cpm = EXCLUDED.cpm, leads = EXCLUDED.leads, cost_per_lead = EXCLUDED.cost_per_lead,"
    " actions = EXCLUDED.actions, currency = EXCLUDED.currency, synced_at = now()"
)


def _values(row: InsightRow, currency: str) -> tuple[Any, ...]:
    actions = {kind: str(value) for kind, value in row.actions.items()}
    return (row.date_start, row.level, row.object_id, row.campaign_id, row.adset_id, row.ad_id, row.impressions,
            row.reach, row.clicks, row.spend, row.ctr, row.cpm, row.leads, row.cost_per_lead, Jsonb(actions),
            currency)  # fmt: skip


def upsert_metrics(conn: Conn, rows: Iterable[InsightRow], currency: str) -> int:
    count = 0
    batch: list[tuple[Any, ...]] = []
    with conn.cursor() as cursor:
        for row in rows:
            batch.append(_values(row, currency))
            if len(batch) >= BATCH:
                cursor.executemany(UPSERT, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(UPSERT, batch)
            count += len(batch)
    return count


def sync_metrics(slug: str, since: date, until: date) -> dict[str, int]:
    ctx = load_context(slug)
    api = marketing_api(ctx)
    counts: dict[str, int] = {}
    for level in LEVELS:
        rows = list(fetch_insights(api, ctx.ad_account_id, level, since, until, daily=True))  # no tx held over HTTP
        with tenant_tx(slug) as conn:
            counts[level] = upsert_metrics(conn, rows, ctx.currency)
    return counts


def run(slug: str, params: dict[str, Any]) -> dict[str, Any]:
    """params: `days` (default 3) ending `until` (default today in the tenant's timezone)."""
    ctx = load_context(slug)
    until = date.fromisoformat(params["until"]) if params.get("until") else ctx.today()
    since = until - timedelta(days=int(params.get("days") or DEFAULT_DAYS) - 1)
    counts = sync_metrics(slug, since, until)
    return {"since": since.isoformat(), "until": until.isoformat(), "rows": counts}


def run_mapping_sync(slug: str, params: dict[str, Any]) -> dict[str, Any]:
    from clawgate.meta.mapping_sync import sync_mapping

    load_context(slug)  # skipped (not failed) for a tenant without Meta
    return asdict(sync_mapping(slug))
