-- Registry schema (applied with search_path = clawgate): what is needed before the tenant is known.
-- Idempotent: every statement may run again on an already migrated schema.

-- One row per tenant; config is the whole validated tenant file (secrets only as `secret:<name>` references).
-- slug is capped at 48 characters so that tenant_<slug> and the per-tenant role names stay under PostgreSQL's
-- 63-byte identifier limit (longer identifiers are silently truncated and could collide).
CREATE TABLE IF NOT EXISTS tenants (
    slug        text PRIMARY KEY CHECK (slug ~ '^[a-z0-9_]+$' AND char_length(slug) <= 48),
    name        text NOT NULL,
    timezone    text NOT NULL DEFAULT 'UTC',
    currency    text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    config      jsonb NOT NULL DEFAULT '{}'::jsonb,
    file_sha256 text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Routes a provider account (WhatsApp phone_number_id, Telegram bot id, Facebook page id, webchat) to one tenant + agent.
CREATE TABLE IF NOT EXISTS channel_accounts (
    id          bigserial PRIMARY KEY,
    tenant_slug text NOT NULL REFERENCES tenants (slug) ON DELETE CASCADE,
    channel     text NOT NULL CHECK (channel IN ('whatsapp', 'telegram', 'meta_page', 'webchat')),
    account_id  text NOT NULL,
    agent_id    text,
    config      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT channel_accounts_channel_account_key UNIQUE (channel, account_id)
);
CREATE INDEX IF NOT EXISTS channel_accounts_tenant_idx ON channel_accounts (tenant_slug);

-- Gateway bearer tokens of a tenant; only the SHA-256 of the token is stored.
CREATE TABLE IF NOT EXISTS gateway_tokens (
    id           bigserial PRIMARY KEY,
    tenant_slug  text NOT NULL REFERENCES tenants (slug) ON DELETE CASCADE,
    token_sha256 text NOT NULL CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    label        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT gateway_tokens_token_sha256_key UNIQUE (token_sha256)
);
CREATE INDEX IF NOT EXISTS gateway_tokens_tenant_idx ON gateway_tokens (tenant_slug);

-- Control-plane devices (web UI clients) of a tenant and their approval state.
CREATE TABLE IF NOT EXISTS devices (
    tenant_slug  text NOT NULL REFERENCES tenants (slug) ON DELETE CASCADE,
    device_id    text NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'revoked')),
    name         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    approved_at  timestamptz,
    last_seen_at timestamptz,
    PRIMARY KEY (tenant_slug, device_id)
);

-- Live API Gateway WebSocket connections; tenant and device are set once the `connect` frame authenticates.
CREATE TABLE IF NOT EXISTS ws_connections (
    connection_id text PRIMARY KEY,
    tenant_slug   text REFERENCES tenants (slug) ON DELETE CASCADE,
    device_id     text,
    connected_at  timestamptz NOT NULL DEFAULT now(),
    authenticated boolean NOT NULL DEFAULT false,
    source_ip     text
);
CREATE INDEX IF NOT EXISTS ws_connections_tenant_idx ON ws_connections (tenant_slug) WHERE tenant_slug IS NOT NULL;

-- One-time DM pairing codes (Telegram/WhatsApp `pairing` policy); an approved row is the peer's permission.
CREATE TABLE IF NOT EXISTS pairing_codes (
    code        text PRIMARY KEY,
    tenant_slug text NOT NULL REFERENCES tenants (slug) ON DELETE CASCADE,
    channel     text NOT NULL CHECK (channel IN ('whatsapp', 'telegram', 'meta_page', 'webchat')),
    account_id  text NOT NULL,
    peer_id     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    approved_at timestamptz
);
CREATE INDEX IF NOT EXISTS pairing_codes_peer_idx ON pairing_codes (channel, account_id, peer_id);
CREATE INDEX IF NOT EXISTS pairing_codes_tenant_idx ON pairing_codes (tenant_slug);

-- Failed authentications per source (IP or connection), for rate limiting.
CREATE TABLE IF NOT EXISTS auth_failures (
    id     bigserial PRIMARY KEY,
    source text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS auth_failures_source_at_idx ON auth_failures (source, at);
