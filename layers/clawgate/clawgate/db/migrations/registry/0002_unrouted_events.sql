-- Provider updates that no tenant claims (unknown phone_number_id, malformed bodies): kept raw, never dropped.
CREATE TABLE IF NOT EXISTS unrouted_events (
    id          bigserial PRIMARY KEY,
    channel     text NOT NULL,
    account_id  text,
    reason      text NOT NULL,
    payload     text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS unrouted_events_received_at_idx ON unrouted_events (received_at DESC);
