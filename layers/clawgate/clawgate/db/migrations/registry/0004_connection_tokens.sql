-- Which gateway token authenticated a control-plane connection: revoking the token closes the sockets it opened.
ALTER TABLE ws_connections ADD COLUMN IF NOT EXISTS token_id bigint REFERENCES gateway_tokens (id) ON DELETE SET NULL;
CREATE INDEX IF NOT EXISTS ws_connections_token_idx ON ws_connections (token_id) WHERE token_id IS NOT NULL;
