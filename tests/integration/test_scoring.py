"""Ad-set health scoring over a fixture of `metrics_history` rows: the scores are the numbers the formula in
clawgate/jobs/scoring.py and skills/fb-scoring/SKILL.md documents, term by term."""

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

pytestmark = pytest.mark.usefixtures("database")
DAY = date(2026, 5, 10)


def metrics(conn: Any, adset: str, offset: int, spend: int, leads: int, impressions: int, clicks: int) -> None:
    conn.execute(
        "INSERT INTO metrics_history (date, level, object_id, adset_id, campaign_id, spend, leads, impressions, clicks)"
        " VALUES (%s, 'adset', %s, %s, 'c1', %s, %s, %s, %s)",
        (DAY - timedelta(days=offset), adset, adset, spend, leads, impressions, clicks),
    )


@pytest.fixture
def tenant(make_tenant: Callable[..., TenantFile]) -> TenantFile:
    unique = uuid.uuid4().hex[:8]
    tenant = make_tenant(f"score_{unique}", meta={"ad_account_id": "act_1", "access_token": "secret:x/meta"})
    apply_tenant(tenant)
    with tenant_tx(tenant.slug) as conn:
        conn.execute("INSERT INTO config (key, value) VALUES ('target_cpl', '\"1000\"')")
        direction_id = conn.execute("INSERT INTO directions (name, target_cpl) VALUES ('Implants', 1000) RETURNING id")
        direction_id = direction_id.fetchone()[0]
        for adset in ("A", "E"):
            conn.execute("INSERT INTO direction_adsets (direction_id, adset_id) VALUES (%s, %s)", (direction_id, adset))
        for offset in range(3, 10):  # baseline window D-9 … D-3
            metrics(conn, "A", offset, 1000, 1, 5000, 50)  # 7,000 for 7 leads: CPL 1,000
            metrics(conn, "B", offset, 700, 1 if offset < 8 else 0, 5000, 50)  # 5 leads
            metrics(conn, "C", offset, 500, 1, 4000, 40)
            metrics(conn, "E", offset, 2000, 1, 3000, 30)  # CPL 2,000
        for offset, leads in zip(range(3), (1, 1, 2), strict=True):  # recent window D-2 … D
            metrics(conn, "A", offset, 1000, leads, 10000, 150)  # 3,000 for 4 leads, CTR 1.5%
            metrics(conn, "B", offset, 1000, 0, (7000, 7000, 6000)[offset], (30, 30, 20)[offset])  # CTR 0.4%
            metrics(conn, "E", offset, 500, 1, 1000, 30)  # 1,500 for 3 leads, CTR 3%
        metrics(conn, "D", 20, 900, 1, 1000, 10)  # outside both windows: not scored
    return tenant


def test_scoring_gives_the_documented_numbers(tenant: TenantFile) -> None:
    result = run_job(JobRequest(tenant=tenant.slug, job="scoring", params={"date": DAY.isoformat()}))
    assert result["status"] == "succeeded"
    with tenant_tx(tenant.slug) as conn:
        rows = conn.execute(
            "SELECT adset_id, score, recommendation, components->>'trend', components->>'target',"
            " components->>'ctr', components->>'delivery' FROM scoring_history ORDER BY adset_id"
        ).fetchall()
        execution = conn.execute("SELECT status, adsets_scored, params->>'date' FROM scoring_executions").fetchall()
    assert rows == [
        ("A", Decimal("62.50"), "keep", "5.0", "5.0", "7.5", "0.0"),  # the skill's worked example
        ("B", Decimal("0.00"), "pause", "-20.0", "-20.0", "-9.0", "0.0"),  # 45 - 49 → clamped to 0
        ("C", Decimal("35.00"), "review", "0.0", "0.0", "0.0", "-10.0"),  # stopped delivering
        ("E", Decimal("85.00"), "scale", "15.0", "10.0", "15.0", "0.0"),  # CPL 2,000 → 500, CTR 3%
    ]
    assert execution == [("succeeded", 4, DAY.isoformat())]


def test_a_tenant_without_an_ad_account_gets_a_skipped_run(make_tenant: Callable[..., TenantFile]) -> None:
    tenant = make_tenant(f"noads_{uuid.uuid4().hex[:8]}")
    apply_tenant(tenant)
    result = run_job(JobRequest(tenant=tenant.slug, job="scoring"))
    assert result["status"] == "skipped" and "fb-onboarding" in result["reason"]
    with tenant_tx(tenant.slug) as conn:
        assert conn.execute("SELECT name, status FROM jobs").fetchall() == [("scoring", "skipped")]
