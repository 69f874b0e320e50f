-- Ads guardrails (applied with search_path = tenant_<slug>). Idempotent.

-- A held change is a budget change or a resume (ACTIVE is spending) of a campaign, ad set or ad; `adset_id` holds
-- the object's id whatever its kind. A status change keeps old_budget 0 and new_budget = the daily budget that
-- starts running.
ALTER TABLE budget_changes ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'budget';
ALTER TABLE budget_changes ADD COLUMN IF NOT EXISTS object_kind text NOT NULL DEFAULT 'adset';
ALTER TABLE budget_changes ADD COLUMN IF NOT EXISTS new_status text;
ALTER TABLE budget_changes ADD COLUMN IF NOT EXISTS decided_by text;
ALTER TABLE budget_changes DROP CONSTRAINT IF EXISTS budget_changes_new_budget_check;
DO $$ BEGIN
    ALTER TABLE budget_changes ADD CONSTRAINT budget_changes_kind_check CHECK (
        (kind = 'budget' AND new_budget > 0 AND new_status IS NULL)
        OR (kind = 'status' AND new_budget >= 0 AND new_status = 'ACTIVE'));
    ALTER TABLE budget_changes ADD CONSTRAINT budget_changes_object_kind_check
        CHECK (object_kind IN ('campaign', 'adset', 'ad'));
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- The daily budget an ad set or campaign had when the tenant's day began (before our first change that day):
-- the step limit is measured against it, so small steps cannot compound past it within a day.
CREATE TABLE IF NOT EXISTS budget_day_start (
    object_id  text NOT NULL,
    day        date NOT NULL,
    budget     bigint NOT NULL CHECK (budget >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (object_id, day)
);
