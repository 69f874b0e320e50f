-- The single-host runtime's synchronous runs (clawgate.local.sync_runs): the HTTP server puts a run on the local
-- `sync_runs` queue, a worker process runs the state machine and leaves its output here, the server takes it.
CREATE TABLE IF NOT EXISTS sync_run_results (
    call_id     text PRIMARY KEY,
    output      jsonb,
    error       jsonb,
    finished_at timestamptz NOT NULL DEFAULT now()
);
