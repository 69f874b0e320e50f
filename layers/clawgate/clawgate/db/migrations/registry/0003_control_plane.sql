-- Control plane: the pieces of a WebSocket message split into 32 KB chunk frames, kept until the last one arrives
-- (a chunked message may reach several Lambda instances); a closed connection drops its pieces.
CREATE TABLE IF NOT EXISTS ws_chunks (
    connection_id text NOT NULL REFERENCES ws_connections (connection_id) ON DELETE CASCADE,
    message_id    text NOT NULL,
    chunk_index   int NOT NULL CHECK (chunk_index >= 0),
    chunk_count   int NOT NULL CHECK (chunk_count >= 1),
    data          text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, message_id, chunk_index)
);

-- Replies fan out to every open tab of a device.
CREATE INDEX IF NOT EXISTS ws_connections_device_idx ON ws_connections (tenant_slug, device_id) WHERE authenticated;
-- Devices listed per tenant and status (`clawgate devices list`, the UI's devices tab).
CREATE INDEX IF NOT EXISTS devices_tenant_status_idx ON devices (tenant_slug, status);
