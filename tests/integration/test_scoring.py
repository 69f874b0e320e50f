"""Ad-set health scoring on a fixture month of insights and dialogs: the scores are the numbers the formula in
clawgate/jobs/scoring.py and skills/fb-scoring/SKILL.md documents, term by term, with leads and qualified leads
from our own rows; a paused ad set is skipped, the learning phase and too little data hold a judgement back, and
high frequency and disapproved ads raise alerts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from clawgate.db import tenant_tx
from clawgate.jobs.runner import JobRequest, run_job
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile
from psycopg.types.json import Jsonb

pytestmark = pytest.mark.usefixtures("database")
DAY = date(2026, 5, 31)  # recent window May 29-31, baseline May 22-28
MONTH = [date(2026, 5, 1) + timedelta(days=n) for n in range(31)]


def metrics(conn: Any, adset: str, day: date, spend: int, impressions: int, clicks: int, frequency: float) -> None:
    conn.execute(
        "INSERT INTO metrics_history (date, level, object_id, adset_id, campaign_id, spend, impressions, clicks,"
        " frequency) VALUES (%s, 'adset', %s, %s, 'c1', %s, %s, %s, %s)",
        (day, adset, adset, spend, impressions, clicks, frequency),
    )


def dialogs(
    conn: Any, day: date, qualifications: list[str], *, adset: str | None = None, ad: str | None = None
) -> None:
    """One WhatsApp dialog and its lead per qualification, on `day` at noon in Almaty."""
    for qualification in qualifications:
        dialog = conn.execute(
            "INSERT INTO wa_dialogs (phone_number_id, user_id, qualification, ad_id) VALUES ('pn', %s, %s, %s)"
            " RETURNING id",
            (uuid.uuid4().hex, qualification, ad),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO leads (source, dialog_id, ad_id, adset_id, created_at) VALUES ('ctwa', %s, %s, %s,"
            " (%s::date + time '12:00') AT TIME ZONE 'Asia/Almaty')",
            (dialog, ad, adset, day),
        )


def state(conn: Any, object_id: str, level: str, name: str, **fields: Any) -> None:
    conn.execute(
        "INSERT INTO ads_objects (object_id, level, name, status, effective_status, learning_stage, issues)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (object_id, level, name, fields.get("status", "ACTIVE"), fields.get("effective", "ACTIVE"),
         fields.get("learning"), Jsonb(fields.get("issues", []))),
    )  # fmt: skip


@pytest.fixture
def tenant(make_tenant: Callable[..., TenantFile]) -> TenantFile:
    unique = uuid.uuid4().hex[:8]
    tenant = make_tenant(f"score_{unique}", meta={"ad_account_id": "act_1", "access_token": "secret:x/meta"})
    apply_tenant(tenant)
    with tenant_tx(tenant.slug) as conn:
        conn.execute("INSERT INTO config (key, value) VALUES ('target_cpl', '\"1000\"')")
        implants = conn.execute("INSERT INTO directions (name, target_cpl) VALUES ('Implants', 1000) RETURNING id")
        conn.execute(
            "INSERT INTO direction_adsets (direction_id, adset_id) VALUES (%s, 'A')", (implants.fetchone()[0],)
        )
        conn.execute("INSERT INTO ad_creative_mapping (ad_id, adset_id) VALUES ('ad-a1', 'A')")
        paused = {"status": "PAUSED", "effective": "PAUSED"}
        for name, fields in (("A", {}), ("B", {"learning": "LEARNING"}), ("C", paused), ("E", {}), ("F", {})):
            state(conn, name, "adset", f"Ad set {name}", **fields)
        state(conn, "ad-x", "ad", "Smile v2", effective="DISAPPROVED",
              issues=[{"error_code": 1815869, "error_summary": "Ad rejected"}])  # fmt: skip
        for day in MONTH:
            recent, baseline = day >= DAY - timedelta(days=2), DAY - timedelta(days=9) <= day < DAY - timedelta(days=2)
            metrics(conn, "A", day, 1000, 5000, 60, 1.5)  # CTR 1.2%
            metrics(conn, "B", day, 500, 2000, 30, 1.2)
            if day < DAY - timedelta(days=3):
                metrics(conn, "C", day, 800, 3000, 30, 1.0)  # paused by the operator on May 28
            metrics(conn, "E", day, 2000, 3000, 18, 3.6 if day == DAY - timedelta(days=1) else 2.0)  # CTR 0.6%
            if recent:
                metrics(conn, "F", day, 100, 200, 2, 1.0)  # started on May 29: too little to judge
            if baseline:
                dialogs(conn, day, ["new"], ad="ad-a1")  # A: 7 leads, 7,000 spent: CPL 1,000
                dialogs(conn, day, ["interested"], adset="E")  # E: CPL 2,000 in the baseline, none recently
                dialogs(conn, day, ["new"], adset="B")
            elif not recent:
                dialogs(conn, day, ["new", "not_interested"], ad="ad-a1")  # earlier in the month: outside both
        recent_days = ((DAY - timedelta(days=2), ["interested", "new"]), (DAY - timedelta(days=1), ["scheduled"]),
                       (DAY, ["not_interested"]))  # fmt: skip
        for day, qualifications in recent_days:
            dialogs(conn, day, qualifications, ad="ad-a1")  # A: 4 leads, 3,000 spent: CPL 750; 2 qualified
    return tenant


def test_scoring_on_a_month_of_insights_and_dialogs_gives_the_documented_numbers(tenant: TenantFile) -> None:
    result = run_job(JobRequest(tenant=tenant.slug, job="scoring", params={"date": DAY.isoformat()}))
    assert result["status"] == "succeeded"
    with tenant_tx(tenant.slug) as conn:
        rows = conn.execute(
            "SELECT adset_id, score, recommendation, components->>'trend', components->>'target',"
            " components->>'ctr', components->>'quality', components->>'delivery' FROM scoring_history"
            " ORDER BY adset_id"
        ).fetchall()
        recent_a = conn.execute("SELECT components->'recent' FROM scoring_history WHERE adset_id = 'A'").fetchone()
        skipped, alerts = conn.execute("SELECT skipped, alerts FROM scoring_executions").fetchone()
    assert rows == [
        # trend 20 × (1,000 − 750)/1,000, target the same, CTR 15 × 0.2, quality 10 × (0.5 − 0.3)/0.3
        ("A", Decimal("64.67"), "keep", "5.0", "5.0", "3.0", "6.67", "0.0"),
        ("B", Decimal("12.50"), "learning", "-20.0", "-20.0", "7.5", "0.0", "0.0"),  # judged only after learning
        ("E", Decimal("0.00"), "pause", "-20.0", "-20.0", "-6.0", "0.0", "0.0"),  # 45 − 46 → clamped to 0
        ("F", Decimal("45.00"), "wait", "0.0", "0.0", "0.0", "0.0", "0.0"),  # 600 impressions, 300 spent
    ]
    assert recent_a[0] == {"spend": 3000.0, "leads": 4, "impressions": 15000, "clicks": 180, "qualified": 2,
                           "frequency": 1.5}  # fmt: skip
    assert skipped == [{"adset_id": "C", "name": "Ad set C", "reason": "paused"}]
    assert [(a["kind"], a.get("adset_id") or a.get("ad_id")) for a in alerts] == [
        ("frequency", "E"),
        ("disapproved", "ad-x"),
    ]
    assert alerts[0]["frequency"] == 3.6 and alerts[1]["text"] == "ad Smile v2 is DISAPPROVED"


def test_a_tenant_without_an_ad_account_gets_a_skipped_run(make_tenant: Callable[..., TenantFile]) -> None:
    tenant = make_tenant(f"noads_{uuid.uuid4().hex[:8]}")
    apply_tenant(tenant)
    result = run_job(JobRequest(tenant=tenant.slug, job="scoring"))
    assert result["status"] == "skipped" and "fb-onboarding" in result["reason"]
    with tenant_tx(tenant.slug) as conn:
        assert conn.execute("SELECT name, status FROM jobs").fetchall() == [("scoring", "skipped")]
