-- Scoring and creative tests that mean something (applied with search_path = tenant_<slug>). Idempotent.

-- What a scoring run found besides scores: ad sets it skipped and why, and alerts (frequency, disapprovals).
ALTER TABLE scoring_executions ADD COLUMN IF NOT EXISTS alerts jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE scoring_executions ADD COLUMN IF NOT EXISTS skipped jsonb NOT NULL DEFAULT '[]'::jsonb;

-- A creative test compares ad sets (one variant each, equal budgets) and ends by its time limit at the latest,
-- with a winner or as inconclusive (verdict->>'outcome').
ALTER TABLE creative_tests ADD COLUMN IF NOT EXISTS ends_at timestamptz;
