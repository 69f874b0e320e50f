"""Creative-test evaluation. A running test in `creative_tests` gets a verdict only when every variant (one ad each)
has both spent its budget (`budget_per_variant`, US dollars through `currency_rates`, default $20) and had
`min_impressions` (default 1,000) since the test started. The verdict: the lowest cost per lead wins; with no lead
in any variant, the highest CTR. The agent then writes an analysis for the operator (a scheduled turn, within the
daily budget), stored with the verdict."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from psycopg.types.json import Jsonb

from clawgate.db import tenant_tx
from clawgate.jobs.turns import scheduled_turn
from clawgate.meta.marketing.calls import marketing_api
from clawgate.meta.marketing.context import AdsContext, load_context
from clawgate.meta.marketing.insights import fetch_insights, ratios
from clawgate.meta.marketing.money import to_usd

ANALYSIS_PROMPT = (
    "Creative test {name!r} (test {id}) has enough data for a verdict: every variant spent at least ${budget} and"
    " had at least {impressions} impressions. Numbers per variant (money in {currency}):\n{numbers}\n"
    "By the rule ({rule}) the winner is variant {winner}. Write a short analysis for the operator: why it won, how"
    " sure we can be, and what to test next. Do not change budgets or statuses in this turn."
)


def variant_numbers(ctx: AdsContext, ad_id: str, since: date, until: date) -> dict[str, Any]:
    rows = list(fetch_insights(marketing_api(ctx), ad_id, "ad", since, until, daily=False))
    spend = sum((row.spend for row in rows), Decimal(0))
    impressions, clicks, leads = (sum(getattr(row, key) for row in rows) for key in ("impressions", "clicks", "leads"))
    with tenant_tx(ctx.slug, "ro") as conn:
        spend_usd = to_usd(conn, spend, ctx.currency, until)
    return {"ad_id": ad_id, "impressions": impressions, "clicks": clicks, "spend": float(spend), "leads": leads,
            "spend_usd": float(spend_usd) if spend_usd is not None else None,
            **ratios(impressions, clicks, spend, leads)}  # fmt: skip


def decide(variants: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    with_leads = [v for v in variants if v["leads"]]
    if with_leads:
        return min(with_leads, key=lambda v: v["cpl"]), "lowest cost per lead"
    return max(variants, key=lambda v: v["ctr"] or 0.0), "highest CTR (no variant has leads)"


def evaluate(ctx: AdsContext, test: tuple[Any, ...]) -> dict[str, Any]:
    test_id, name, variants, budget, min_impressions, started_at = test
    since = started_at.astimezone(ZoneInfo(ctx.tenant.timezone)).date()
    numbers = [{"label": v["label"], **variant_numbers(ctx, v["ad_id"], since, ctx.today())} for v in variants]
    missing = [
        v["label"] for v in numbers
        if v["spend_usd"] is None or v["spend_usd"] < float(budget) or v["impressions"] < min_impressions
    ]  # fmt: skip
    if missing:
        return {"test_id": test_id, "status": "running", "waiting_for": missing, "variants": numbers}
    winner, rule = decide(numbers)
    verdict = {"winner": winner["label"], "winner_ad_id": winner["ad_id"], "rule": rule, "variants": numbers,
               "decided_at": datetime.now(ZoneInfo("UTC")).isoformat()}  # fmt: skip
    prompt = ANALYSIS_PROMPT.format(name=name, id=test_id, budget=budget, impressions=min_impressions, rule=rule,
                                    currency=ctx.currency, winner=winner["label"],
                                    numbers="\n".join(json.dumps(v) for v in numbers))  # fmt: skip
    outcome = scheduled_turn(ctx.slug, ctx.agent_id, f"creative-test-{test_id}", prompt, f"creative-test:{test_id}")
    verdict["analysis_turn"] = {"status": outcome.status, "turn_id": outcome.turn_id}
    with tenant_tx(ctx.slug) as conn:
        conn.execute(
            "UPDATE creative_tests SET status = 'concluded', verdict = %s, winner_ad_id = %s, analysis = %s,"
            " concluded_at = now() WHERE id = %s AND status = 'running'",
            (Jsonb(verdict), winner["ad_id"], outcome.reply, test_id),
        )
    return {"test_id": test_id, "status": "concluded", "winner": winner["label"], "analysis": outcome.status}


def run(slug: str, params: dict[str, Any]) -> dict[str, Any]:
    ctx = load_context(slug)
    with tenant_tx(slug, "ro") as conn:
        tests = conn.execute(
            "SELECT id, name, variants, budget_per_variant, min_impressions, started_at FROM creative_tests"
            " WHERE status = 'running' ORDER BY id"
        ).fetchall()
    return {"tests": [evaluate(ctx, test) for test in tests]}
