"""Metrics sync: daily insights per ad set and per ad into `metrics_history`. `(date, level, object_id)` is unique,
so a sync is an upsert and re-running one changes nothing but fresher numbers (Meta keeps attributing conversions
for days: each run refreshes the last `days` days, today included). Mapping sync is the attribution side's
(meta.mapping_sync), run on its own schedule.

Each sync also saves the ad sets and ads as they are (`ads_objects`: names, status and effective status, learning
phase, Meta's issues), which scoring and the reports read, and remembers the ad account's currency."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from clawgate.db import tenant_tx
from clawgate.jobs.data import metrics
from clawgate.meta.marketing.calls import graph_call, marketing_api
from clawgate.meta.marketing.context import AdsContext, load_context
from clawgate.meta.marketing.insights import InsightRow, Level, fetch_insights
from clawgate.meta.marketing.presets import result_action

LEVELS: tuple[Level, ...] = ("adset", "ad")
DEFAULT_DAYS = 3


def _columns(row: InsightRow, currency: str) -> dict[str, Any]:
    """The `metrics_history` row of an insight: Meta's action counts kept as text, exactly as Meta sent them."""
    fields = row.model_dump(exclude={"date_start", "date_stop", "optimization_goal", "actions"})
    return {**fields, "date": row.date_start, "cost_per_lead": row.cost_per_lead, "currency": currency,
            "actions": {kind: str(value) for kind, value in row.actions.items()}}  # fmt: skip


def sync_metrics(slug: str, since: date, until: date) -> dict[str, int]:
    ctx = load_context(slug)
    api = marketing_api(ctx)
    states = list_states(ctx)
    destinations = {s["object_id"]: s.get("destination_type") for s in states if s["level"] == "adset"}
    with tenant_tx(slug) as conn:
        counts: dict[str, int] = {"objects": metrics.save_states(conn, states)}
    for level in LEVELS:
        rows = [with_result(row, destinations) for row in
                fetch_insights(api, ctx.ad_account_id, level, since, until, daily=True)]  # fmt: skip
        with tenant_tx(slug) as conn:  # no transaction held over HTTP
            counts[level] = metrics.save_insights(conn, (_columns(row, ctx.currency) for row in rows))
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
