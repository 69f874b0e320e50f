"""The scheduler of `clawgate dev`: each tenant's due jobs, in its own timezone, started once per minute."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from clawgate.jobs.scheduler import LocalScheduler
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

pytestmark = pytest.mark.usefixtures("database")


def test_due_jobs_start_once_per_minute_in_the_tenants_timezone(make_tenant: Callable[..., TenantFile]) -> None:
    tenant = make_tenant(f"sched_{uuid.uuid4().hex[:8]}", timezone="Asia/Tokyo",
                         meta={"ad_account_id": "act_1", "access_token": "secret:x/meta"},
                         ads={"heartbeat": True, "schedules": {"weekly_report": "off"}})  # fmt: skip
    apply_tenant(tenant)
    now = datetime(2026, 5, 4, 0, 0, 42, tzinfo=UTC)  # Monday 09:00 in Tokyo
    launched: list[dict[str, str]] = []
    scheduler = LocalScheduler(clock=lambda: now, launch=launched.append)

    scheduler.tick()
    scheduler.tick()  # the same minute: nothing again
    mine = [payload for payload in launched if payload["tenant"] == tenant.slug]
    assert [payload["job"] for payload in mine] == ["morning_report", "heartbeat", "inbox"]  # inbox: every 10 min
    assert {payload["scheduled_for"] for payload in mine} == {"2026-05-04T00:00:00+00:00"}

    now = datetime(2026, 5, 4, 1, 0, 5, tzinfo=UTC)  # 10:00: the hourly heartbeat and the inbox
    assert [job for slug, job in scheduler.tick() if slug == tenant.slug] == ["heartbeat", "inbox"]


def test_the_cli_shows_a_tenants_schedule_and_its_job_runs(
    make_tenant: Callable[..., TenantFile], capsys: pytest.CaptureFixture[str]
) -> None:
    from clawgate.cli import main
    from clawgate.jobs.runner import JobRequest, run_job

    tenant = make_tenant(f"cli_{uuid.uuid4().hex[:8]}", meta={"ad_account_id": "act_1", "access_token": "secret:x/m"},
                         ads={"schedules": {"morning_report": "cron(30 8 * * ? *)"}})  # fmt: skip
    apply_tenant(tenant)
    assert main(["jobs", "schedule", "--tenant", tenant.slug]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "morning_report\tcron(30 8 * * ? *)\tAsia/Almaty" in lines
    assert len(lines) == 9  # seven ads jobs (with currency_rates), inbox and templates_sync
    run_job(JobRequest(tenant=tenant.slug, job="heartbeat"))  # off for this tenant: a skipped run
    assert main(["jobs", "list", "--tenant", tenant.slug]) == 0
    assert "\theartbeat\tskipped\t" in capsys.readouterr().out
