-- Where a turn's reply goes and what the model is told about the writer, so Deliver and CallModel need no joins.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS account_id text;
ALTER TABLE turns ADD COLUMN IF NOT EXISTS account_id text;
ALTER TABLE turns ADD COLUMN IF NOT EXISTS peer_id text;
ALTER TABLE turns ADD COLUMN IF NOT EXISTS context jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE turns ADD COLUMN IF NOT EXISTS request_id text;
-- The tool calls one model answer asked for, in order (RunTools' Map items) and the step that asked.
ALTER TABLE tool_calls ADD COLUMN IF NOT EXISTS step int NOT NULL DEFAULT 0;
-- An API caller's idempotency key: the same key returns the same turn.
CREATE UNIQUE INDEX IF NOT EXISTS turns_request_id_key ON turns (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS usage_agent_created_idx ON usage (created_at, agent_id);
