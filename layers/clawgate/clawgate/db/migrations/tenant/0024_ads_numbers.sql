-- Numbers an agency trusts (applied with search_path = tenant_<slug>). Idempotent.

-- Meta's counts kept apart: `leads` are `lead` actions only; conversations and the ad set's own result (the action
-- its optimisation goal buys) have their columns. Names are kept so people read names, not ids.
ALTER TABLE metrics_history ADD COLUMN IF NOT EXISTS name text;
ALTER TABLE metrics_history ADD COLUMN IF NOT EXISTS conversations int NOT NULL DEFAULT 0;
ALTER TABLE metrics_history ADD COLUMN IF NOT EXISTS results int NOT NULL DEFAULT 0;
ALTER TABLE metrics_history ADD COLUMN IF NOT EXISTS result_action text;
ALTER TABLE metrics_history ADD COLUMN IF NOT EXISTS frequency numeric;

-- The ad sets and ads of the ad account as the last metrics sync saw them: names, the status a person set, what
-- Meta does with it (effective_status), the learning phase, and Meta's issues (disapprovals, delivery problems).
CREATE TABLE IF NOT EXISTS ads_objects (
    object_id          text PRIMARY KEY,
    level              text NOT NULL CHECK (level IN ('campaign', 'adset', 'ad')),
    name               text,
    campaign_id        text,
    adset_id           text,
    status             text,
    effective_status   text,
    optimization_goal  text,
    destination_type   text,
    daily_budget       bigint,
    learning_stage     text,
    issues             jsonb NOT NULL DEFAULT '[]'::jsonb,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ads_objects_level_idx ON ads_objects (level, effective_status);

-- Leads by the ad they came from, for cost per lead and per qualified lead by ad, creative and direction.
CREATE INDEX IF NOT EXISTS leads_ad_created_idx ON leads (ad_id, created_at);
