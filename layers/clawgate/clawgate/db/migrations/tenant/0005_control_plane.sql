-- Operator API: creative uploads (S3 multipart, or the local blob store) that end in a `creatives` row.
-- upload_id is S3's UploadId (or a local id); token_sha256 guards the local part URLs.
CREATE TABLE IF NOT EXISTS creative_uploads (
    id           bigserial PRIMARY KEY,
    upload_id    text NOT NULL,
    blob_key     text NOT NULL,
    filename     text NOT NULL,
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL CHECK (size_bytes > 0 AND size_bytes <= 524288000),
    part_size    bigint NOT NULL CHECK (part_size > 0),
    part_count   int NOT NULL CHECK (part_count BETWEEN 1 AND 10000),
    title        text,
    direction_id bigint REFERENCES directions (id) ON DELETE SET NULL,
    token_sha256 text,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'aborted')),
    creative_id  bigint REFERENCES creatives (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT creative_uploads_upload_id_key UNIQUE (upload_id)
);

-- The control UI's "last message" of a dialog or a lead: the latest inbound event of a conversation.
CREATE INDEX IF NOT EXISTS inbound_events_conversation_idx ON inbound_events (conversation_key, id);
