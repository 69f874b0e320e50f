"""Scheduled jobs of a tenant: metrics sync, mapping sync, ad-set scoring, creative tests, reports, heartbeat. In AWS
EventBridge Scheduler starts the `jobs` workflow with `{tenant, job}`; locally `clawgate dev` runs a small scheduler
thread, and `clawgate jobs run NAME --tenant T` runs one job by hand."""


class JobSkipped(Exception):
    """Nothing to do, or not allowed now (no changes, budget spent...); the reason is recorded. Raised by the jobs,
    caught by `runner`: it lives here so that neither imports the other."""
