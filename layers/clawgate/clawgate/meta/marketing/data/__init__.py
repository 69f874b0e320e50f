"""The ads-management data-access layer: one module per aggregate (audit log, held budget changes, budget day
starts, settings, directions, creative tests, exchange rates, lead quality), each taking a `clawgate.db.Conn` inside
the caller's transaction and returning typed rows. The Marketing API calls and guardrails stay in `meta.marketing`."""
