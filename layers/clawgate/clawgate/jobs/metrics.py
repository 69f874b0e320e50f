"""Metrics sync: daily insights per ad set and per ad into `metrics_history`. `(date, level, object_id)` is unique,
so a sync is an upsert and re-running one changes nothing but fresher numbers (Meta keeps attributing conversions
for days: each run refreshes the last `days` days, today included). Mapping sync is the attribution side's
(meta.mapping_sync), run on its own schedule.

Each sync also saves the ad sets and ads as they are (`ads_objects`: names, status and effective status, learning
phase, Meta's issues), which scoring and the reports read, and remembers the ad account's currency."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from clawgate.db import Conn, tenant_tx
from clawgate.meta.marketing.calls import graph_call, marketing_api
from clawgate.meta.marketing.context import AdsContext, load_context
from clawgate.meta.marketing.insights import InsightRow, Level, fetch_insights
from clawgate.meta.marketing.presets import result_action

LEVELS: tuple[Level, ...] = ("adset", "ad")
DEFAULT_DAYS = 3
BATCH = 1000
UPSERT = (
    "INSERT INTO metrics_history (date, level, object_id, campaign_id, adset_id, ad_id, impressions, reach, clicks,"
    " spend, ctr, cpm, leads, cost_per_lead, actions, currency, name, conversations, results, result_action,"
    " frequency) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (date, level, object_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id,"
    " adset_id = EXCLUDED.adset_id, ad_id = EXCLUDED.ad_id, impressions = EXCLUDED.impressions,"
    " reach = EXCLUDED.reach, clicks = EXCLUDED.clicks, spend = EXCLUDED.spend, ctr = EXCLUDED.ctr,"
    " cpm = EXCLUDED.cpm, leads = EXCLUDED.leads, cost_per_lead = EXCLUDED.cost_per_lead,"
    " actions = EXCLUDED.actions, currency = EXCLUDED.currency, name = EXCLUDED.name,"
    " conversations = EXCLUDED.conversations, results = EXCLUDED.results, result_action = EXCLUDED.result_action,"
    " frequency = EXCLUDED.frequency, synced_at = now()"
)


def _values(row: InsightRow, currency: str) -> tuple[Any, ...]:
    actions = {kind: str(value) for kind, value in row.actions.items()}
    return (row.date_start, row.level, row.object_id, row.campaign_id, row.adset_id, row.ad_id, row.impressions,
            row.reach, row.clicks, row.spend, row.ctr, row.cpm, row.leads, row.cost_per_lead, Jsonb(actions),
            currency, row.name, row.conversations, row.results, row.result_action, row.frequency)  # fmt: skip


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
    states = list_states(ctx)
    destinations = {s["object_id"]: s.get("destination_type") for s in states if s["level"] == "adset"}
    counts: dict[str, int] = {"objects": save_states(slug, states)}
    for level in LEVELS:
        rows = [with_result(row, destinations) for row in
                fetch_insights(api, ctx.ad_account_id, level, since, until, daily=True)]  # fmt: skip
        with tenant_tx(slug) as conn:  # no transaction held over HTTP
            counts[level] = upsert_metrics(conn, rows, ctx.currency)
    return counts


def with_result(row: InsightRow, destinations: dict[str, str | None]) -> InsightRow:
    """The result of a conversions ad set depends on its destination (WhatsApp conversions or a website)."""
    if row.optimization_goal != "OFFSITE_CONVERSIONS":
        return row
    action = result_action(row.optimization_goal, destinations.get(row.adset_id or ""))
    return row.model_copy(update={"result_action": action, "results": int(row.actions.get(action or "", 0))})


STATE_FIELDS = {
    "adset": ["id", "name", "campaign_id", "status", "effective_status", "optimization_goal", "destination_type",
              "daily_budget", "learning_stage_info", "issues_info"],
    "ad": ["id", "name", "campaign_id", "adset_id", "status", "effective_status", "issues_info"],
}  # fmt: skip


def list_states(ctx: AdsContext) -> list[dict[str, Any]]:
    from facebook_business.adobjects.adaccount import AdAccount

    api = marketing_api(ctx)
    account = AdAccount(ctx.ad_account_id, api=api)
    states: list[dict[str, Any]] = []
    with graph_call(api):
        for level, edge in (("adset", account.get_ad_sets), ("ad", account.get_ads)):
            for item in edge(fields=STATE_FIELDS[level], params={"limit": 500}):
                data = item.export_all_data()
                learning = data.get("learning_stage_info") or {}
                states.append({"object_id": str(data["id"]), "level": level, "name": data.get("name"),
                               "campaign_id": data.get("campaign_id"), "adset_id": data.get("adset_id"),
                               "status": data.get("status"), "effective_status": data.get("effective_status"),
                               "optimization_goal": data.get("optimization_goal"),
                               "destination_type": data.get("destination_type"),
                               "daily_budget": int(data["daily_budget"]) if data.get("daily_budget") else None,
                               "learning_stage": learning.get("status") if isinstance(learning, dict) else None,
                               "issues": data.get("issues_info") or []})  # fmt: skip
    return states


def save_states(slug: str, states: list[dict[str, Any]]) -> int:
    columns = ("object_id", "level", "name", "campaign_id", "adset_id", "status", "effective_status",
               "optimization_goal", "destination_type", "daily_budget", "learning_stage", "issues")  # fmt: skip
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
    sql = (f"INSERT INTO ads_objects ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
           f" ON CONFLICT (object_id) DO UPDATE SET {updates}, updated_at = now()")  # fmt: skip
    with tenant_tx(slug) as conn, conn.cursor() as cursor:
        cursor.executemany(sql, [tuple(Jsonb(s[c]) if c == "issues" else s[c] for c in columns) for s in states])
    return len(states)


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
