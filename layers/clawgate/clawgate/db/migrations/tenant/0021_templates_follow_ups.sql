-- The WhatsApp Business Account's message templates, as Graph lists them (GET /{waba_id}/message_templates), cached
-- here: refreshed by the `templates_sync` job and on demand; only APPROVED ones may be sent.
CREATE TABLE IF NOT EXISTS whatsapp_templates (
    waba_id    text NOT NULL,
    name       text NOT NULL,
    language   text NOT NULL,
    status     text NOT NULL,
    category   text,
    components jsonb NOT NULL DEFAULT '[]'::jsonb,
    synced_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (waba_id, name, language)
);

-- Follow-ups the agent (operator channels only) or an operator scheduled: "no answer for 23 h → template X". The
-- `inbox` job sends each once when it is due and the customer stayed silent, unless they opted out or the daily
-- budget is spent (then it is skipped, with the reason).
CREATE TABLE IF NOT EXISTS follow_ups (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    template_name   text NOT NULL,
    language        text NOT NULL,
    parameters      jsonb NOT NULL DEFAULT '[]'::jsonb,
    silent_minutes  int NOT NULL CHECK (silent_minutes BETWEEN 1 AND 43200),
    due_at          timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'scheduled'
                    CHECK (status IN ('scheduled', 'sent', 'skipped', 'failed', 'cancelled')),
    created_by      text NOT NULL,
    detail          text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz
);
CREATE INDEX IF NOT EXISTS follow_ups_due_idx ON follow_ups (due_at) WHERE status = 'scheduled';
