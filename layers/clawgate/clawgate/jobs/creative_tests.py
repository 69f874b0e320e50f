"""Creative-test evaluation. A test compares ad sets (one variant each, equal daily budgets: one ad set's delivery
cannot starve another's) from `started_at` until `ends_at` (its time limit). Every day, per variant: Meta's spend,
impressions and clicks of the ad set, and our own leads and qualified leads (dialog `interested`/`scheduled`) from
its ads since the start.

A verdict needs every variant to have spent `budget_per_variant` (US dollars through `currency_rates`, default $20)
and had `min_impressions` (default 1,000). Then the variants are ranked by cost per qualified lead when they have
MIN_QUALIFIED of them in all, else by cost per lead when they have MIN_LEADS, else by CTR; the best wins only if it
is at least MARGIN better than the runner-up. Otherwise the test keeps running — and at its time limit it ends
`inconclusive` (verdict `outcome`), which is an answer too: the creatives perform alike, or the budget was too small.
The agent then writes an analysis for the operator (a scheduled turn, within the daily budget)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from clawgate.db import tenant_tx
from clawgate.jobs.turns import scheduled_turn
from clawgate.meta.marketing.calls import marketing_api
from clawgate.meta.marketing.context import AdsContext, load_context
from clawgate.meta.marketing.data import creative_tests
from clawgate.meta.marketing.data.creative_tests import CreativeTest
from clawgate.meta.marketing.insights import fetch_insights, ratios
from clawgate.meta.marketing.money import to_usd

MIN_QUALIFIED, MIN_LEADS = 3, 5
MARGIN = 0.2  # the winner's cost is at least 20% below the runner-up's (or its CTR 20% above)
ANALYSIS_PROMPT = (
    "Creative test {name!r} (test {id}) has ended: {outcome}. Numbers per variant (money in {currency}; leads and"
    " qualified leads are ours):\n{numbers}\n{rule}. Write a short analysis for the operator: what the numbers say,"
    " how sure we can be, and what to test next. Do not change budgets or statuses in this turn."
)


def variant_numbers(ctx: AdsContext, adset_id: str, started_at: datetime) -> dict[str, Any]:
    since = started_at.astimezone(ZoneInfo(ctx.tenant.timezone)).date()
    rows = list(fetch_insights(marketing_api(ctx), adset_id, "adset", since, ctx.today(), daily=False))
    spend = sum((row.spend for row in rows), Decimal(0))
    impressions, clicks = sum(row.impressions for row in rows), sum(row.clicks for row in rows)
    with tenant_tx(ctx.slug, "ro") as conn:
        spend_usd = to_usd(conn, spend, ctx.currency, ctx.today())
        got = creative_tests.leads_since(conn, adset_id, started_at)
    cpql = round(float(spend) / got.qualified, 2) if got.qualified else None
    return {"adset_id": adset_id, "impressions": impressions, "clicks": clicks, "spend": float(spend),
            "spend_usd": float(spend_usd) if spend_usd is not None else None, "leads": got.leads,
            "qualified": got.qualified, "cpql": cpql, **ratios(impressions, clicks, spend, got.leads)}  # fmt: skip


def decide(variants: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, str]:
    """The clear winner and the rule, or None and why there is none."""
    if sum(v["qualified"] for v in variants) >= MIN_QUALIFIED:
        key, rule, lower = "cpql", "lowest cost per qualified lead", True
    elif sum(v["leads"] for v in variants) >= MIN_LEADS:
        key, rule, lower = "cpl", "lowest cost per lead", True
    else:
        key, rule, lower = "ctr", "highest CTR (too few leads to compare costs)", False
    worst = float("inf") if lower else float("-inf")
    ranked = sorted(variants, key=lambda v: v[key] if v[key] is not None else worst, reverse=not lower)
    best, second = ranked[0], ranked[1]
    if best[key] is None:
        return None, f"no variant has a {key} yet"
    if second[key] is None:
        return best, rule
    clear = best[key] <= second[key] * (1 - MARGIN) if lower else best[key] >= second[key] * (1 + MARGIN)
    return (best, rule) if clear else (None, f"by {rule}, no variant is {MARGIN:.0%} better than the next")


def _conclude(ctx: AdsContext, test: CreativeTest, numbers: list[dict[str, Any]], winner: dict[str, Any] | None,
              rule: str) -> dict[str, Any]:  # fmt: skip
    outcome = f"variant {winner['label']} wins" if winner else "inconclusive"
    verdict = {"outcome": "winner" if winner else "inconclusive", "winner": winner["label"] if winner else None,
               "winner_adset_id": winner["adset_id"] if winner else None, "rule": rule, "variants": numbers,
               "decided_at": datetime.now(UTC).isoformat()}  # fmt: skip
    prompt = ANALYSIS_PROMPT.format(name=test.name, id=test.id, outcome=outcome, currency=ctx.currency, rule=rule,
                                    numbers="\n".join(json.dumps(v) for v in numbers))  # fmt: skip
    turn = scheduled_turn(ctx.slug, ctx.agent_id, f"creative-test-{test.id}", prompt, f"creative-test:{test.id}")
    verdict["analysis_turn"] = {"status": turn.status, "turn_id": turn.turn_id}
    with tenant_tx(ctx.slug) as conn:
        creative_tests.conclude(conn, test.id, verdict, winner["adset_id"] if winner else None, turn.reply)
    return {"test_id": test.id, "status": "concluded", "outcome": verdict["outcome"], "winner": verdict["winner"]}


def evaluate(ctx: AdsContext, test: CreativeTest, now: datetime) -> dict[str, Any]:
    numbers = [{"label": v["label"], "name": v.get("name"), **variant_numbers(ctx, v["adset_id"], test.started_at)}
               for v in test.variants]  # fmt: skip
    budget, min_impressions = float(test.budget_per_variant), test.min_impressions
    short = lambda v: v["spend_usd"] is None or v["spend_usd"] < budget or v["impressions"] < min_impressions  # noqa: E731
    missing = [v["label"] for v in numbers if short(v)]
    over = test.ends_at is not None and now >= test.ends_at
    if missing:
        if over:
            return _conclude(ctx, test, numbers, None, f"the time limit came before variants {missing} had enough data")
        return {"test_id": test.id, "status": "running", "waiting_for": missing, "variants": numbers}
    winner, rule = decide(numbers)
    if winner is None and not over:
        return {"test_id": test.id, "status": "running", "waiting_for": [], "why": rule, "variants": numbers}
    return _conclude(ctx, test, numbers, winner, rule)


def run(slug: str, params: dict[str, Any]) -> dict[str, Any]:
    """params: `now` (ISO timestamp, default: now) to evaluate as of another moment."""
    ctx = load_context(slug)
    now = datetime.fromisoformat(params["now"]) if params.get("now") else datetime.now(UTC)
    with tenant_tx(slug, "ro") as conn:
        tests = creative_tests.running(conn)
    return {"tests": [evaluate(ctx, test, now) for test in tests], "date": date.today().isoformat()}
