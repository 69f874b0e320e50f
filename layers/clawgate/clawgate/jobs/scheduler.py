"""The scheduler of `clawgate dev`: what EventBridge Scheduler does in AWS. A daemon thread wakes every few seconds,
and for each tenant starts the jobs whose cron fires in the current minute of the tenant's timezone, each through the
`jobs` workflow in a thread of its own, with `scheduled_for` = that minute (the `jobs` table runs a slot once)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from clawgate.core import ports
from clawgate.jobs.schedules import due_jobs
from clawgate.observability import logger

TICK_S = 5.0


def start_job(payload: dict[str, str]) -> None:
    """Run the `jobs` workflow for one due job in a thread of its own (a slow report must not delay the others)."""

    def run() -> None:
        try:
            ports.workflows().run("jobs", payload)
        except Exception:
            logger.exception("scheduled job failed", extra={"tenant": payload["tenant"], "job": payload["job"]})

    threading.Thread(target=run, name=f"job-{payload['job']}", daemon=True).start()


class LocalScheduler:
    def __init__(
        self,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        launch: Callable[[dict[str, str]], None] = start_job,
        tick_s: float = TICK_S,
    ) -> None:
        self._clock, self._launch, self._tick_s = clock, launch, tick_s
        self._stop = threading.Event()
        self._fired: set[tuple[str, str, datetime]] = set()
        self._thread = threading.Thread(target=self._loop, name="clawgate-scheduler", daemon=True)

    def start(self) -> LocalScheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._tick_s):
            try:
                self.tick()
            except Exception:
                logger.exception("scheduler tick failed")

    def tick(self) -> list[tuple[str, str]]:
        """Start what is due now; returns the (tenant, job) pairs started."""
        from clawgate.db import registry_tx
        from clawgate.tenancy.data.registry import list_tenants
        from clawgate.tenancy.tenants import cached_tenant

        minute = self._clock().replace(second=0, microsecond=0)
        self._fired = {key for key in self._fired if key[2] == minute}
        started = []
        with registry_tx() as conn:
            tenants = list_tenants(conn)
        for summary in tenants:
            try:
                due = due_jobs(cached_tenant(summary.slug), minute)
            except Exception:
                logger.exception("scheduler: tenant skipped", extra={"tenant": summary.slug})
                continue
            for job in due:
                if (summary.slug, job, minute) in self._fired:
                    continue
                self._fired.add((summary.slug, job, minute))
                self._launch({"tenant": summary.slug, "job": job, "scheduled_for": minute.isoformat()})
                started.append((summary.slug, job))
        return started
