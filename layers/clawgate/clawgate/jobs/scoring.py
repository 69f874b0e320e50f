"""Ad-set health scoring into `scoring_history`, one `scoring_executions` row per run (with what it skipped and its
alerts). The formula (also in skills/fb-scoring/SKILL.md; change both together):

Inputs, per ad set, for the scoring day D (default: yesterday, tenant time) — data/scoring.py: recent window
R = D-2 … D (3 days), baseline B = D-9 … D-3 (7 days); spend, impressions, clicks and the highest daily frequency
from the insights, leads and qualified leads (dialog `interested`/`scheduled`) from our own rows. cpl(W) =
spend/leads (undefined without leads); ctr_R = 100 × clicks_R / impressions_R (%). target = the target CPL of the ad
set's direction, else the tenant's `target_cpl`.

Not scored: ad sets a person paused (`status` PAUSED, or their campaign paused) — a pause is a decision, not a
failure — and ad sets with no spend in R nor in B.

score = clamp(45 + trend + target + ctr + quality + delivery, 0, 100), 2 decimals; clamp1(x) = min(max(x, -1), 1):
  trend    (±20) = 20 × clamp1((cpl_B − cpl_R) / cpl_B)       when both CPLs are defined;
                  −20 when R spent without a lead and B had leads; otherwise 0.
  target   (±20) = 20 × clamp1((target − cpl_R) / target)      when both are defined;
                  −20 when R has no lead and spend_R ≥ target; otherwise 0.
  ctr      (±15) = 15 × clamp1((ctr_R − 1.0) / 1.0)            when impressions_R ≥ 1,000; otherwise 0.
  quality  (±10) = 10 × clamp1((q_R − 0.3) / 0.3), q_R = qualified_R / leads_R, when leads_R ≥ 3; otherwise 0.
  delivery (−10) = −10 when impressions_R = 0 (the ad set stopped delivering); otherwise 0.

Recommendation: score ≥ 70 `scale`, ≥ 45 `keep`, ≥ 25 `review`, below 25 `pause` — unless the data cannot carry a
judgement: `learning` while Meta's learning phase runs (edits restart it), `wait` below the minimum data (spend_R
under twice the target CPL and impressions_R under 1,000).

Alerts: an ad set whose highest daily frequency in R is above 3.0 (the same people see the ads too often: creative
fatigue), an ad set with Meta's issues, and every ad Meta disapproved or flagged (`effective_status`, `issues_info`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from clawgate.db import tenant_tx
from clawgate.jobs.data import scoring
from clawgate.jobs.data.metrics import disapproved_ads
from clawgate.jobs.data.scoring import AdSetData, Window
from clawgate.meta.marketing.context import load_context

BASE = 45.0
CTR_BENCHMARK_PCT = 1.0
MIN_CTR_IMPRESSIONS = 1_000
QUALIFIED_BENCHMARK = 0.3
MIN_QUALITY_LEADS = 3
MAX_FREQUENCY = 3.0
RECOMMENDATIONS = ((70.0, "scale"), (45.0, "keep"), (25.0, "review"), (float("-inf"), "pause"))
PAUSED_BY_PEOPLE = frozenset({"PAUSED", "CAMPAIGN_PAUSED", "ADSET_PAUSED"})


@dataclass(frozen=True)
class Score:
    score: float
    trend: float
    target: float
    ctr: float
    quality: float
    delivery: float
    recommendation: str


def _clamp1(value: float) -> float:
    return min(max(value, -1.0), 1.0)


def score_adset(recent: Window, baseline: Window, target: float | None, learning: bool = False) -> Score:
    trend = 0.0
    if recent.cpl is not None and baseline.cpl is not None:
        trend = 20 * _clamp1((baseline.cpl - recent.cpl) / baseline.cpl)
    elif recent.spend > 0 and recent.leads == 0 and baseline.leads > 0:
        trend = -20.0
    on_target = 0.0
    if target and recent.cpl is not None:
        on_target = 20 * _clamp1((target - recent.cpl) / target)
    elif target and recent.leads == 0 and recent.spend >= target:
        on_target = -20.0
    ctr = 0.0
    if recent.impressions >= MIN_CTR_IMPRESSIONS:
        recent_ctr = 100 * recent.clicks / recent.impressions
        ctr = 15 * _clamp1((recent_ctr - CTR_BENCHMARK_PCT) / CTR_BENCHMARK_PCT)
    quality = 0.0
    if recent.leads >= MIN_QUALITY_LEADS:
        quality = 10 * _clamp1((recent.qualified / recent.leads - QUALIFIED_BENCHMARK) / QUALIFIED_BENCHMARK)
    delivery = -10.0 if recent.impressions == 0 else 0.0
    total = round(min(max(BASE + trend + on_target + ctr + quality + delivery, 0.0), 100.0), 2)
    recommendation = next(name for floor, name in RECOMMENDATIONS if total >= floor)
    if learning:
        recommendation = "learning"
    elif recent.impressions < MIN_CTR_IMPRESSIONS and recent.spend < 2 * (target or 0.0):
        recommendation = "wait"
    return Score(total, round(trend, 2), round(on_target, 2), round(ctr, 2), round(quality, 2), delivery,
                 recommendation)  # fmt: skip


def _skip_reason(data: AdSetData) -> str | None:
    if str(data.state.get("status") or "") == "PAUSED" or data.state.get("effective_status") in PAUSED_BY_PEOPLE:
        return "paused"
    if not (data.recent.spend or data.baseline.spend):
        return "no spend"
    return None


def _alerts(data: AdSetData) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = []
    if data.recent.frequency is not None and data.recent.frequency > MAX_FREQUENCY:
        text = f"frequency {data.recent.frequency:.1f} > {MAX_FREQUENCY}: refresh the creatives"
        alerts.append({"kind": "frequency", "adset_id": data.adset_id, "name": data.name,
                       "frequency": data.recent.frequency, "text": text})  # fmt: skip
    if data.state.get("issues"):
        alerts.append({"kind": "issues", "adset_id": data.adset_id, "name": data.name,
                       "issues": data.state["issues"], "text": "Meta reports issues on this ad set"})  # fmt: skip
    return alerts


def score_day(slug: str, day: date) -> dict[str, Any]:
    ctx = load_context(slug)
    fallback = float(ctx.target_cpl) if ctx.target_cpl else None
    with tenant_tx(slug) as conn:
        execution_id = scoring.start_run(conn, day)
        scored, skipped, alerts = [], [], []
        for data in scoring.adset_windows(conn, day, ctx.tenant.timezone):
            reason = _skip_reason(data)
            if reason:
                skipped.append({"adset_id": data.adset_id, "name": data.name, "reason": reason})
                continue
            alerts += _alerts(data)
            target = data.target or fallback
            result = score_adset(data.recent, data.baseline, target, data.state.get("learning_stage") == "LEARNING")
            components = {**asdict(result), "recent": asdict(data.recent), "baseline": asdict(data.baseline),
                          "target_cpl": target, "name": data.name}  # fmt: skip
            scoring.record_score(conn, execution_id, data, day, result.score, result.recommendation, components)
            scored.append({"adset_id": data.adset_id, "name": data.name, "score": result.score,
                           "recommendation": result.recommendation})  # fmt: skip
        alerts += [{"kind": "disapproved", **ad, "text": f"ad {ad['name'] or ad['ad_id']} is {ad['effective_status']}"}
                   for ad in disapproved_ads(conn)]  # fmt: skip
        scoring.finish_run(conn, execution_id, len(scored), alerts, skipped)
    return {"execution_id": execution_id, "date": day.isoformat(), "scores": scored, "skipped": skipped,
            "alerts": alerts}  # fmt: skip


def run(slug: str, params: dict[str, Any]) -> dict[str, Any]:
    """params: `date` (default: yesterday in the tenant's timezone)."""
    day = date.fromisoformat(params["date"]) if params.get("date") else load_context(slug).yesterday()
    return score_day(slug, day)
