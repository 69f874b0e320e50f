"""Ad-set health scoring into `scoring_history`, one `scoring_executions` row per run. The formula (also in
skills/fb-scoring/SKILL.md; change both together):

Inputs, per ad set, from `metrics_history` (level `adset`) for the scoring day D (default: yesterday, tenant time):
  recent window R = D-2 … D (3 days), baseline window B = D-9 … D-3 (7 days); over each window the sums of spend,
  leads, impressions and clicks. cpl(W) = spend/leads (undefined without leads); ctr_R = 100 × clicks_R /
  impressions_R (%). target = the target CPL of the ad set's direction, else the tenant's `target_cpl` setting.
  Ad sets with no spend in R nor in B are not scored.

score = clamp(45 + trend + target + ctr + delivery, 0, 100), rounded to 2 decimals; clamp1(x) = min(max(x, -1), 1):
  trend    (±20) = 20 × clamp1((cpl_B − cpl_R) / cpl_B)       when both CPLs are defined;
                  −20 when R spent without a lead and B had leads; otherwise 0.
  target   (±20) = 20 × clamp1((target − cpl_R) / target)      when both are defined;
                  −20 when R has no lead and spend_R ≥ target; otherwise 0.
  ctr      (±15) = 15 × clamp1((ctr_R − 1.0) / 1.0)            when impressions_R ≥ 1,000 (1.0% is the benchmark);
                  otherwise 0.
  delivery (−10) = −10 when impressions_R = 0 (the ad set stopped delivering); otherwise 0.

Recommendation: score ≥ 70 `scale` (raise the budget within the step limit), ≥ 45 `keep`, ≥ 25 `review` (creatives,
audience), below 25 `pause` (pause, or fix before spending more)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from clawgate.db import Conn, tenant_tx
from clawgate.meta.marketing.context import load_context

BASE = 45.0
RECENT_DAYS, BASELINE_DAYS = 3, 7
CTR_BENCHMARK_PCT = 1.0
MIN_CTR_IMPRESSIONS = 1_000
RECOMMENDATIONS = ((70.0, "scale"), (45.0, "keep"), (25.0, "review"), (float("-inf"), "pause"))


@dataclass(frozen=True)
class Window:
    spend: float = 0.0
    leads: int = 0
    impressions: int = 0
    clicks: int = 0

    @property
    def cpl(self) -> float | None:
        return self.spend / self.leads if self.leads else None


@dataclass(frozen=True)
class Score:
    score: float
    trend: float
    target: float
    ctr: float
    delivery: float
    recommendation: str


def _clamp1(value: float) -> float:
    return min(max(value, -1.0), 1.0)


def score_adset(recent: Window, baseline: Window, target: float | None) -> Score:
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
    delivery = -10.0 if recent.impressions == 0 else 0.0
    total = round(min(max(BASE + trend + on_target + ctr + delivery, 0.0), 100.0), 2)
    recommendation = next(name for floor, name in RECOMMENDATIONS if total >= floor)
    return Score(total, round(trend, 2), round(on_target, 2), round(ctr, 2), delivery, recommendation)


def _windows(conn: Conn, day: date) -> list[tuple[str, str | None, Window, Window, Decimal | None]]:
    recent_from = day - timedelta(days=RECENT_DAYS - 1)
    baseline_from = recent_from - timedelta(days=BASELINE_DAYS)
    sums = ", ".join(
        f"coalesce(sum({column}) FILTER (WHERE m.date {window}), 0)"
        for window in ("BETWEEN %(recent)s AND %(day)s", "BETWEEN %(baseline)s AND %(recent)s - 1")
        for column in ("spend", "leads", "impressions", "clicks")
    )
    rows = conn.execute(
        f"SELECT m.object_id, max(m.campaign_id), {sums}, max(d.target_cpl) FROM metrics_history m"
        " LEFT JOIN direction_adsets da ON da.adset_id = m.object_id LEFT JOIN directions d ON d.id = da.direction_id"
        " WHERE m.level = 'adset' AND m.date BETWEEN %(baseline)s AND %(day)s GROUP BY m.object_id ORDER BY 1",
        {"day": day, "recent": recent_from, "baseline": baseline_from},
    ).fetchall()
    result = []
    for adset_id, campaign_id, *numbers, target in rows:
        recent = Window(float(numbers[0]), int(numbers[1]), int(numbers[2]), int(numbers[3]))
        baseline = Window(float(numbers[4]), int(numbers[5]), int(numbers[6]), int(numbers[7]))
        if recent.spend or baseline.spend:
            result.append((adset_id, campaign_id, recent, baseline, target))
    return result


def score_day(slug: str, day: date) -> dict[str, Any]:
    ctx = load_context(slug)
    fallback = float(ctx.target_cpl) if ctx.target_cpl else None
    with tenant_tx(slug) as conn:
        execution = conn.execute(
            "INSERT INTO scoring_executions (params) VALUES (%s) RETURNING id", (Jsonb({"date": day.isoformat()}),)
        ).fetchone()
        assert execution is not None
        scored = []
        for adset_id, campaign_id, recent, baseline, target in _windows(conn, day):
            chosen = float(target) if target else fallback
            result = score_adset(recent, baseline, chosen)
            windows = {"recent": asdict(recent), "baseline": asdict(baseline), "target_cpl": chosen}
            components = {**asdict(result), **windows}
            conn.execute(
                "INSERT INTO scoring_history (execution_id, adset_id, campaign_id, date, score, components,"
                " recommendation) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (execution[0], adset_id, campaign_id, day, result.score, Jsonb(components), result.recommendation),
            )
            scored.append({"adset_id": adset_id, "score": result.score, "recommendation": result.recommendation})
        conn.execute(
            "UPDATE scoring_executions SET status = 'succeeded', finished_at = now(), adsets_scored = %s WHERE id = %s",
            (len(scored), execution[0]),
        )
    return {"execution_id": execution[0], "date": day.isoformat(), "scores": scored}


def run(slug: str, params: dict[str, Any]) -> dict[str, Any]:
    """params: `date` (default: yesterday in the tenant's timezone)."""
    day = date.fromisoformat(params["date"]) if params.get("date") else load_context(slug).yesterday()
    return score_day(slug, day)
