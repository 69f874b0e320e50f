-- Tenant schema (applied with search_path = tenant_<slug>): the agent runtime's tables.
-- Idempotent: every statement may run again on an already migrated schema.

-- The tenant's agents (persona, models per channel, fallbacks, provider, tool policy), from the tenant file.
CREATE TABLE IF NOT EXISTS agents (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    emoji            text,
    model            text NOT NULL,
    model_by_channel jsonb NOT NULL DEFAULT '{}'::jsonb,
    fallback_models  jsonb NOT NULL DEFAULT '[]'::jsonb,
    provider         jsonb,
    tools_by_channel jsonb NOT NULL DEFAULT '{}'::jsonb,
    settings         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Routing (channel, account, peer) -> agent; NULL is a wildcard (precedence peer > account > channel > default,
-- the default binding being channel, account and peer all NULL). NULLS NOT DISTINCT: one row per combination.
CREATE TABLE IF NOT EXISTS bindings (
    id         bigserial PRIMARY KEY,
    agent_id   text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    channel    text,
    account_id text,
    peer_id    text,
    priority   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bindings_channel_account_peer_key UNIQUE NULLS NOT DISTINCT (channel, account_id, peer_id)
);
CREATE INDEX IF NOT EXISTS bindings_agent_idx ON bindings (agent_id);

-- A conversation of one agent with one peer on one channel; session_key = agent + channel + peer.
CREATE TABLE IF NOT EXISTS sessions (
    id                           bigserial PRIMARY KEY,
    agent_id                     text NOT NULL REFERENCES agents (id),
    channel                      text NOT NULL,
    peer_id                      text NOT NULL,
    session_key                  text NOT NULL,
    title                        text,
    summary                      text,
    compacted_through_message_id bigint,
    created_at                   timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    last_message_at              timestamptz,
    CONSTRAINT sessions_session_key_key UNIQUE (session_key)
);
CREATE INDEX IF NOT EXISTS sessions_agent_last_message_idx ON sessions (agent_id, last_message_at DESC);

-- One agent turn (one AgentTurn workflow execution): the inbound events it answers, its steps and its outcome.
CREATE TABLE IF NOT EXISTS turns (
    id                bigserial PRIMARY KEY,
    session_id        bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    agent_id          text NOT NULL REFERENCES agents (id),
    channel           text NOT NULL,
    status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'budget_exceeded')),
    trigger           text NOT NULL DEFAULT 'inbound',
    inbound_event_ids bigint[] NOT NULL DEFAULT '{}',
    replay_of_turn_id bigint REFERENCES turns (id) ON DELETE SET NULL,
    step_count        int NOT NULL DEFAULT 0,
    model             text,
    error             text,
    stop_reason       text,
    reply_text        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz
);
CREATE INDEX IF NOT EXISTS turns_session_id_idx ON turns (session_id, id);
CREATE INDEX IF NOT EXISTS turns_status_idx ON turns (status);
CREATE INDEX IF NOT EXISTS turns_created_at_idx ON turns (created_at DESC);

-- Session transcript rows (user, assistant, tool_use, tool_result, summary, system); content is the API block list.
CREATE TABLE IF NOT EXISTS messages (
    id         bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    turn_id    bigint REFERENCES turns (id) ON DELETE SET NULL,
    role       text NOT NULL CHECK (role IN ('user', 'assistant', 'tool_use', 'tool_result', 'summary', 'system')),
    content    jsonb NOT NULL,
    text       text,
    tokens     int,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS messages_session_id_idx ON messages (session_id, id);
CREATE INDEX IF NOT EXISTS messages_turn_idx ON messages (turn_id) WHERE turn_id IS NOT NULL;

-- Every tool call the model made, with the policy outcome; (turn_id, tool_use_id) makes RunTools retries idempotent.
CREATE TABLE IF NOT EXISTS tool_calls (
    id          bigserial PRIMARY KEY,
    turn_id     bigint NOT NULL REFERENCES turns (id) ON DELETE CASCADE,
    tool_use_id text NOT NULL,
    name        text NOT NULL,
    arguments   jsonb NOT NULL DEFAULT '{}'::jsonb,
    result      jsonb,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ok', 'error', 'refused')),
    error       text,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CONSTRAINT tool_calls_turn_tool_use_key UNIQUE (turn_id, tool_use_id)
);

-- Raw inbound provider events; UNIQUE(channel, provider_id) is the exactly-once ingest key.
-- provider_id: wamid (WhatsApp message), <wamid>:<status> (WhatsApp status), <bot_id>:<update_id> (Telegram),
-- leadgen_id (Lead Ads), the client message id (webchat).
CREATE TABLE IF NOT EXISTS inbound_events (
    id               bigserial PRIMARY KEY,
    channel          text NOT NULL,
    account_id       text,
    provider_id      text NOT NULL,
    conversation_key text,
    peer_id          text,
    kind             text NOT NULL DEFAULT 'message',
    payload          jsonb NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    turn_id          bigint REFERENCES turns (id) ON DELETE SET NULL,
    processed_at     timestamptz,
    CONSTRAINT inbound_events_channel_provider_key UNIQUE (channel, provider_id)
);
CREATE INDEX IF NOT EXISTS inbound_events_pending_idx ON inbound_events (conversation_key, id) WHERE turn_id IS NULL;
CREATE INDEX IF NOT EXISTS inbound_events_turn_idx ON inbound_events (turn_id) WHERE turn_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS inbound_events_received_at_idx ON inbound_events (received_at DESC);

-- Outbound messages (one row per chunk); idempotency_key = turn id + chunk index, so a replayed Deliver never
-- sends twice; provider_message_id (wamid, Telegram message_id) is what delivery statuses are matched on.
CREATE TABLE IF NOT EXISTS outbound_messages (
    id                  bigserial PRIMARY KEY,
    turn_id             bigint REFERENCES turns (id) ON DELETE SET NULL,
    channel             text NOT NULL,
    account_id          text,
    peer_id             text NOT NULL,
    provider_message_id text,
    idempotency_key     text NOT NULL,
    chunk_index         int NOT NULL DEFAULT 0,
    body                text,
    payload             jsonb,
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')),
    error_code          int,
    error               jsonb,
    created_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    status_at           timestamptz,
    CONSTRAINT outbound_messages_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT outbound_messages_provider_message_key UNIQUE (channel, account_id, peer_id, provider_message_id)
);
CREATE INDEX IF NOT EXISTS outbound_messages_provider_message_idx ON outbound_messages (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbound_messages_turn_idx ON outbound_messages (turn_id) WHERE turn_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbound_messages_peer_idx ON outbound_messages (channel, peer_id, id);

-- Agent workspace files (SOUL.md, AGENTS.md, IDENTITY.md, USER.md, TOOLS.md, MEMORY.md, tenant skills...).
CREATE TABLE IF NOT EXISTS workspace_files (
    agent_id   text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    name       text NOT NULL,
    content    text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text,
    PRIMARY KEY (agent_id, name)
);

-- Tokens and cost of every model call, for usage reports and the daily budget.
CREATE TABLE IF NOT EXISTS usage (
    id                 bigserial PRIMARY KEY,
    turn_id            bigint REFERENCES turns (id) ON DELETE SET NULL,
    agent_id           text,
    model              text NOT NULL,
    provider           text,
    input_tokens       bigint NOT NULL DEFAULT 0,
    output_tokens      bigint NOT NULL DEFAULT 0,
    cache_read_tokens  bigint NOT NULL DEFAULT 0,
    cache_write_tokens bigint NOT NULL DEFAULT 0,
    cost_usd           numeric(12, 6) NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS usage_created_at_idx ON usage (created_at);
CREATE INDEX IF NOT EXISTS usage_turn_idx ON usage (turn_id) WHERE turn_id IS NOT NULL;

-- Scheduled and manual job runs (metrics sync, scoring, reports, heartbeat...); (name, scheduled_for) dedups a
-- scheduler that fires twice for the same slot (ad-hoc runs leave scheduled_for NULL).
CREATE TABLE IF NOT EXISTS jobs (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL,
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'skipped')),
    params        jsonb NOT NULL DEFAULT '{}'::jsonb,
    result        jsonb,
    error         text,
    scheduled_for timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    CONSTRAINT jobs_name_scheduled_for_key UNIQUE (name, scheduled_for)
);
CREATE INDEX IF NOT EXISTS jobs_name_started_at_idx ON jobs (name, started_at);

-- Who asked for which write (ad budget changes, pauses, creations...) and why; also the budget-change rate limit.
CREATE TABLE IF NOT EXISTS audit_log (
    id         bigserial PRIMARY KEY,
    actor      text NOT NULL,
    action     text NOT NULL,
    target     text,
    details    jsonb NOT NULL DEFAULT '{}'::jsonb,
    reason     text,
    turn_id    bigint REFERENCES turns (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_log_target_action_created_idx ON audit_log (target, action, created_at);
CREATE INDEX IF NOT EXISTS audit_log_created_at_idx ON audit_log (created_at DESC);
