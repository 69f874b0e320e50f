"""A job runs once per schedule slot (`jobs.name, scheduled_for` is unique): a schedule that fires twice gets a
duplicate, while a failed run, or one stuck `running` past STUCK_AFTER, is claimed again by the next attempt."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from clawgate.db import tenant_tx
from clawgate.jobs.runner import STUCK_AFTER, JobRequest, run_job
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

pytestmark = pytest.mark.usefixtures("database")
SLOT = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def runs(slug: str) -> list[tuple[Any, ...]]:
    with tenant_tx(slug, "ro") as conn:
        return conn.execute("SELECT id, status FROM jobs WHERE name = 'heartbeat' ORDER BY id").fetchall()


def test_a_slot_runs_once_unless_its_run_failed_or_is_stuck(make_tenant: Callable[..., TenantFile]) -> None:
    tenant = make_tenant(f"runs_{uuid.uuid4().hex[:8]}")  # heartbeat off: every run ends `skipped`
    apply_tenant(tenant)
    request = JobRequest(tenant=tenant.slug, job="heartbeat", scheduled_for=SLOT)

    first = run_job(request)
    assert first["status"] == "skipped"
    assert run_job(request) == {"status": "duplicate", "job": "heartbeat"}
    assert runs(tenant.slug) == [(first["job_id"], "skipped")]

    with tenant_tx(tenant.slug) as conn:  # a fresh run still going: not claimed
        conn.execute("UPDATE jobs SET status = 'running', started_at = now() - %s / 2", (STUCK_AFTER,))
    assert run_job(request)["status"] == "duplicate"

    with tenant_tx(tenant.slug) as conn:  # stuck past STUCK_AFTER: claimed again, the same row
        conn.execute("UPDATE jobs SET started_at = now() - %s - interval '1 minute'", (STUCK_AFTER,))
    assert run_job(request)["job_id"] == first["job_id"]

    with tenant_tx(tenant.slug) as conn:
        conn.execute("UPDATE jobs SET status = 'failed', error = 'boom'")
    assert run_job(request)["status"] == "skipped"
    assert run_job(JobRequest(tenant=tenant.slug, job="heartbeat"))["job_id"] != first["job_id"]  # no slot: a new run
    with tenant_tx(tenant.slug, "ro") as conn:
        assert conn.execute("SELECT count(*) FROM jobs WHERE error IS NOT NULL").fetchone() == (0,)
