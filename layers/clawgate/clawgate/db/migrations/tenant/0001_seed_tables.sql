-- Tenant schema (applied with search_path = tenant_<slug>): the fourteen tables of the seed ads/leads system.
-- Idempotent: every statement may run again on an already migrated schema.
-- Meta ids (ad, adset, campaign, creative, page, phone_number_id, user ids) are text, never numbers.

-- Tenant key/value settings written by onboarding skills and jobs (ad account, page, pixel, report chat...).
CREATE TABLE IF NOT EXISTS config (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Business lines / campaign directions, each with its target cost per lead and daily budget (account currency).
CREATE TABLE IF NOT EXISTS directions (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    description  text,
    target_cpl   numeric(14, 4),
    daily_budget numeric(14, 4),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT directions_name_key UNIQUE (name)
);

-- Which Meta ad sets belong to which direction (an ad set belongs to at most one direction).
CREATE TABLE IF NOT EXISTS direction_adsets (
    id           bigserial PRIMARY KEY,
    direction_id bigint NOT NULL REFERENCES directions (id) ON DELETE CASCADE,
    adset_id     text NOT NULL,
    campaign_id  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT direction_adsets_adset_id_key UNIQUE (adset_id)
);
CREATE INDEX IF NOT EXISTS direction_adsets_direction_idx ON direction_adsets (direction_id);

-- Creative assets: uploaded files (blob_key) and/or Meta ad creatives (meta_creative_id).
CREATE TABLE IF NOT EXISTS creatives (
    id               bigserial PRIMARY KEY,
    direction_id     bigint REFERENCES directions (id) ON DELETE SET NULL,
    meta_creative_id text,
    meta_image_hash  text,
    meta_video_id    text,
    kind             text NOT NULL DEFAULT 'other' CHECK (kind IN ('image', 'video', 'carousel', 'other')),
    title            text,
    body             text,
    media_url        text,
    blob_key         text,
    content_type     text,
    status           text NOT NULL DEFAULT 'new',
    size_bytes       bigint CHECK (size_bytes IS NULL OR size_bytes >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT creatives_meta_creative_id_key UNIQUE (meta_creative_id)
);
CREATE INDEX IF NOT EXISTS creatives_direction_idx ON creatives (direction_id);
CREATE INDEX IF NOT EXISTS creatives_created_at_idx ON creatives (created_at DESC);

-- Daily Marketing API insights per account/campaign/adset/ad; UNIQUE(date, level, object_id) makes sync an upsert.
CREATE TABLE IF NOT EXISTS metrics_history (
    id            bigserial PRIMARY KEY,
    date          date NOT NULL,
    level         text NOT NULL CHECK (level IN ('account', 'campaign', 'adset', 'ad')),
    object_id     text NOT NULL,
    campaign_id   text,
    adset_id      text,
    ad_id         text,
    impressions   bigint NOT NULL DEFAULT 0,
    reach         bigint,
    clicks        bigint NOT NULL DEFAULT 0,
    spend         numeric(14, 4) NOT NULL DEFAULT 0,
    ctr           numeric,
    cpm           numeric,
    leads         int NOT NULL DEFAULT 0,
    cost_per_lead numeric,
    actions       jsonb,
    currency      text,
    synced_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT metrics_history_date_level_object_key UNIQUE (date, level, object_id)
);
CREATE INDEX IF NOT EXISTS metrics_history_level_date_idx ON metrics_history (level, date);
CREATE INDEX IF NOT EXISTS metrics_history_campaign_date_idx ON metrics_history (campaign_id, date);
CREATE INDEX IF NOT EXISTS metrics_history_adset_date_idx ON metrics_history (adset_id, date);
CREATE INDEX IF NOT EXISTS metrics_history_ad_date_idx ON metrics_history (ad_id, date);

-- Meta ad id -> creative, direction, ad set and campaign; the attribution lookup filled by mapping sync.
CREATE TABLE IF NOT EXISTS ad_creative_mapping (
    ad_id            text PRIMARY KEY,
    creative_id      bigint REFERENCES creatives (id) ON DELETE SET NULL,
    meta_creative_id text,
    direction_id     bigint REFERENCES directions (id) ON DELETE SET NULL,
    adset_id         text,
    campaign_id      text,
    ad_name          text,
    synced_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ad_creative_mapping_adset_idx ON ad_creative_mapping (adset_id);
CREATE INDEX IF NOT EXISTS ad_creative_mapping_creative_idx ON ad_creative_mapping (creative_id);
CREATE INDEX IF NOT EXISTS ad_creative_mapping_direction_idx ON ad_creative_mapping (direction_id);

-- Creative A/B tests: variants, thresholds per variant, the verdict and the model's analysis.
CREATE TABLE IF NOT EXISTS creative_tests (
    id                 bigserial PRIMARY KEY,
    direction_id       bigint REFERENCES directions (id) ON DELETE SET NULL,
    name               text NOT NULL,
    status             text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'concluded', 'cancelled')),
    variants           jsonb NOT NULL DEFAULT '[]'::jsonb,
    budget_per_variant numeric(14, 4) NOT NULL DEFAULT 20,
    min_impressions    int NOT NULL DEFAULT 1000,
    verdict            jsonb,
    winner_ad_id       text,
    analysis           text,
    started_at         timestamptz NOT NULL DEFAULT now(),
    concluded_at       timestamptz
);
CREATE INDEX IF NOT EXISTS creative_tests_status_idx ON creative_tests (status);

-- One run of the ad-set health scoring job.
CREATE TABLE IF NOT EXISTS scoring_executions (
    id            bigserial PRIMARY KEY,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    adsets_scored int NOT NULL DEFAULT 0,
    error         text,
    params        jsonb
);
CREATE INDEX IF NOT EXISTS scoring_executions_started_at_idx ON scoring_executions (started_at DESC);

-- Health score of one ad set for one day, with its components and recommendation; one row per ad set per run.
CREATE TABLE IF NOT EXISTS scoring_history (
    id             bigserial PRIMARY KEY,
    execution_id   bigint NOT NULL REFERENCES scoring_executions (id) ON DELETE CASCADE,
    adset_id       text NOT NULL,
    campaign_id    text,
    date           date NOT NULL,
    score          numeric(7, 2) NOT NULL,
    components     jsonb,
    recommendation text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT scoring_history_execution_adset_key UNIQUE (execution_id, adset_id)
);
CREATE INDEX IF NOT EXISTS scoring_history_adset_date_idx ON scoring_history (adset_id, date);

-- WhatsApp conversations keyed by (phone_number_id, user_id) with counters, qualification and CTWA referral.
-- user_id is the business-scoped user id; Ingest falls back to wa_id when a payload carries no user_id.
CREATE TABLE IF NOT EXISTS wa_dialogs (
    id               bigserial PRIMARY KEY,
    phone_number_id  text NOT NULL,
    user_id          text NOT NULL,
    wa_id            text,
    profile_name     text,
    first_message_at timestamptz NOT NULL DEFAULT now(),
    last_message_at  timestamptz NOT NULL DEFAULT now(),
    last_inbound_at  timestamptz,
    messages_in      int NOT NULL DEFAULT 0,
    messages_out     int NOT NULL DEFAULT 0,
    capi_msg_count   int NOT NULL DEFAULT 0,
    qualification    text NOT NULL DEFAULT 'new'
                     CHECK (qualification IN ('new', 'interested', 'scheduled', 'not_interested')),
    summary          text,
    ad_id            text,
    ctwa_clid        text,
    source_url       text,
    source_type      text,
    headline         text,
    body             text,
    media_type       text,
    creative_id      bigint REFERENCES creatives (id) ON DELETE SET NULL,
    direction_id     bigint REFERENCES directions (id) ON DELETE SET NULL,
    referral         jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wa_dialogs_phone_user_key UNIQUE (phone_number_id, user_id)
);
CREATE INDEX IF NOT EXISTS wa_dialogs_last_message_at_idx ON wa_dialogs (last_message_at DESC);
CREATE INDEX IF NOT EXISTS wa_dialogs_wa_id_idx ON wa_dialogs (wa_id);
CREATE INDEX IF NOT EXISTS wa_dialogs_ad_id_idx ON wa_dialogs (ad_id) WHERE ad_id IS NOT NULL;

-- Leads: CTWA conversations (once per dialog), Lead Ads forms (once per leadgen_id) and opt-in organic dialogs.
CREATE TABLE IF NOT EXISTS leads (
    id           bigserial PRIMARY KEY,
    source       text NOT NULL CHECK (source IN ('ctwa', 'lead_form', 'organic')),
    dialog_id    bigint REFERENCES wa_dialogs (id),
    wa_id        text,
    user_id      text,
    ad_id        text,
    adset_id     text,
    campaign_id  text,
    creative_id  bigint REFERENCES creatives (id) ON DELETE SET NULL,
    direction_id bigint REFERENCES directions (id) ON DELETE SET NULL,
    ctwa_clid    text,
    leadgen_id   text,
    form_id      text,
    page_id      text,
    phone        text,
    name         text,
    email        text,
    field_data   jsonb,
    status       text NOT NULL DEFAULT 'new',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT leads_leadgen_id_key UNIQUE (leadgen_id),
    CONSTRAINT leads_lead_form_has_leadgen_id CHECK (source <> 'lead_form' OR leadgen_id IS NOT NULL),
    CONSTRAINT leads_dialog_sources_have_dialog CHECK (source = 'lead_form' OR dialog_id IS NOT NULL)
);
-- Exactly-once keys: one ctwa lead and one organic lead per dialog (ON CONFLICT (dialog_id) WHERE source = '...').
CREATE UNIQUE INDEX IF NOT EXISTS leads_ctwa_dialog_key ON leads (dialog_id) WHERE source = 'ctwa';
CREATE UNIQUE INDEX IF NOT EXISTS leads_organic_dialog_key ON leads (dialog_id) WHERE source = 'organic';
CREATE INDEX IF NOT EXISTS leads_created_at_idx ON leads (created_at DESC);
CREATE INDEX IF NOT EXISTS leads_source_created_at_idx ON leads (source, created_at DESC);
CREATE INDEX IF NOT EXISTS leads_ad_id_idx ON leads (ad_id) WHERE ad_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS leads_dialog_idx ON leads (dialog_id);

-- Daily exchange rates: one unit of `currency` is worth rate_to_usd US dollars on `date`.
CREATE TABLE IF NOT EXISTS currency_rates (
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    date        date NOT NULL,
    rate_to_usd numeric NOT NULL CHECK (rate_to_usd > 0),
    source      text,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (currency, date)
);

-- The tenant's Conversions API settings (a single row, id = 1).
CREATE TABLE IF NOT EXISTS capi_settings (
    id              smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    enabled         boolean NOT NULL DEFAULT false,
    dataset_id      text,
    threshold       int NOT NULL DEFAULT 3 CHECK (threshold >= 1),
    event_l1        text NOT NULL DEFAULT 'LeadSubmitted',
    event_l2        text NOT NULL DEFAULT 'QualifiedLead',
    event_l3        text NOT NULL DEFAULT 'Purchase',
    test_event_code text,
    crm_enabled     boolean NOT NULL DEFAULT false,
    crm_event_name  text,
    l3_value        numeric(14, 4),
    currency        text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Every Conversions API event (level 1..3 for WhatsApp milestones, 0 for CRM lead events); event_id is the
-- exactly-once key, derived from tenant + dialog (or lead) + level, so each level is sent at most once, ever.
CREATE TABLE IF NOT EXISTS capi_events_log (
    id         bigserial PRIMARY KEY,
    dialog_id  bigint REFERENCES wa_dialogs (id),
    lead_id    bigint REFERENCES leads (id),
    level      smallint NOT NULL CHECK (level BETWEEN 0 AND 3),
    event_name text NOT NULL,
    event_id   text NOT NULL,
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts   int NOT NULL DEFAULT 0,
    request    jsonb,
    response   jsonb,
    error      text,
    fbtrace_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    CONSTRAINT capi_events_log_event_id_key UNIQUE (event_id)
);
CREATE INDEX IF NOT EXISTS capi_events_log_dialog_level_idx ON capi_events_log (dialog_id, level);
CREATE INDEX IF NOT EXISTS capi_events_log_lead_idx ON capi_events_log (lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS capi_events_log_created_at_idx ON capi_events_log (created_at DESC);
CREATE INDEX IF NOT EXISTS capi_events_log_status_idx ON capi_events_log (status) WHERE status IN ('pending', 'failed');
