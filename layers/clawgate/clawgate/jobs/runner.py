"""One job run, the task of the `jobs` workflow (input `{tenant, job, scheduled_for?, params?}`). Each run is a `jobs`
row; `(name, scheduled_for)` makes a schedule that fires twice run once (a failed or stuck run may be retried).
A tenant without what a job needs gets a `skipped` run; a failure is recorded, then raised for the workflow's
Retry (GraphRateLimited is retried after Meta's quota recovers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from clawgate.db import tenant_tx
from clawgate.jobs import JobSkipped
from clawgate.jobs.data import runs
from clawgate.meta.marketing.context import AdsNotConfigured
from clawgate.observability import bind, logger

JobFunction = Callable[[str, dict[str, Any]], dict[str, Any]]
STUCK_AFTER = timedelta(minutes=15)  # a run still `running` after this may be claimed again


class JobRequest(BaseModel):
    tenant: str
    job: str
    scheduled_for: datetime | None = None
    params: dict[str, Any] = {}


def job_functions() -> dict[str, JobFunction]:
    import clawgate.jobs.creative_tests as creative_tests
    import clawgate.jobs.heartbeat as heartbeat
    import clawgate.jobs.inbox as inbox
    import clawgate.jobs.metrics as metrics
    import clawgate.jobs.rates as rates
    import clawgate.jobs.reports as reports
    import clawgate.jobs.scoring as scoring

    return {
        "metrics_sync": metrics.run,
        "mapping_sync": metrics.run_mapping_sync,
        "currency_rates": rates.run,
        "scoring": scoring.run,
        "creative_tests": creative_tests.run,
        "morning_report": reports.run_morning,
        "weekly_report": reports.run_weekly,
        "heartbeat": heartbeat.run,
        "inbox": inbox.run,
        "templates_sync": inbox.run_templates_sync,
    }


def run_job(request: JobRequest) -> dict[str, Any]:
    bind(tenant=request.tenant, job=request.job)
    functions = job_functions()
    if request.job not in functions:
        raise LookupError(f"no job {request.job!r}; jobs: {sorted(functions)}")
    job_id = _claim(request)
    if job_id is None:
        logger.info("job already ran for this slot", extra={"scheduled_for": str(request.scheduled_for)})
        return {"status": "duplicate", "job": request.job}
    try:
        result = functions[request.job](request.tenant, request.params)
    except (AdsNotConfigured, JobSkipped) as skipped:
        _finish(request.tenant, job_id, "skipped", {"reason": str(skipped)})
        return {"status": "skipped", "job": request.job, "job_id": job_id, "reason": str(skipped)}
    except Exception as error:
        _finish(request.tenant, job_id, "failed", None, f"{type(error).__name__}: {error}"[:2000])
        logger.exception("job failed")
        raise
    _finish(request.tenant, job_id, "succeeded", result)
    logger.info("job succeeded", extra={"job_id": job_id})
    return {"status": "succeeded", "job": request.job, "job_id": job_id}


def _claim(request: JobRequest) -> int | None:
    with tenant_tx(request.tenant) as conn:
        return runs.claim(conn, request.job, request.params, request.scheduled_for, STUCK_AFTER)


def _finish(tenant: str, job_id: int, status: str, result: dict[str, Any] | None, error: str | None = None) -> None:
    with tenant_tx(tenant) as conn:
        runs.finish(conn, job_id, status, result, error)
