-- Conversions API delivery: a lease so that one sender at a time works on an event (SQS may deliver a message
-- twice), every attempt kept on the event's row (request, response or error), and the Graph error code of the last
-- failure (an invalid token, 190, alerts the operator once, not once per event).
ALTER TABLE capi_events_log ADD COLUMN IF NOT EXISTS claimed_until timestamptz;
ALTER TABLE capi_events_log ADD COLUMN IF NOT EXISTS attempt_log jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE capi_events_log ADD COLUMN IF NOT EXISTS error_code int;
CREATE INDEX IF NOT EXISTS capi_events_log_failed_code_idx ON capi_events_log (error_code, updated_at)
    WHERE status = 'failed';
