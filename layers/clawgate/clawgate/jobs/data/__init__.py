"""The jobs' data-access layer: one module per aggregate the scheduled jobs own (runs, metrics, scoring, reports,
creative tests, rates, heartbeats). Each function takes a `clawgate.db.Conn` (the caller owns the transaction) and
returns typed rows."""
