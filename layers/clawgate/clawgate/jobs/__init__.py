"""Scheduled jobs of a tenant: metrics sync, mapping sync, ad-set scoring, creative tests, reports, heartbeat. In AWS
EventBridge Scheduler starts the `jobs` workflow with `{tenant, job}`; locally `clawgate dev` runs a small scheduler
thread, and `clawgate jobs run NAME --tenant T` runs one job by hand."""
