-- Ads management (applied with search_path = tenant_<slug>). Idempotent.

-- Budget changes the guardrails held for an explicit confirmation turn (beyond the step limit or above the cap),
-- and what became of them. Budgets are in the account currency's minor units, as the Marketing API has them.
CREATE TABLE IF NOT EXISTS budget_changes (
    id                bigserial PRIMARY KEY,
    adset_id          text NOT NULL,
    adset_name        text,
    old_budget        bigint NOT NULL CHECK (old_budget >= 0),
    new_budget        bigint NOT NULL CHECK (new_budget > 0),
    currency          text NOT NULL,
    needs             jsonb NOT NULL DEFAULT '[]'::jsonb,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'applied', 'cancelled', 'expired', 'stale', 'refused')),
    reason            text NOT NULL,
    requested_by      text NOT NULL,
    requested_turn_id bigint REFERENCES turns (id) ON DELETE SET NULL,
    decided_turn_id   bigint REFERENCES turns (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    decided_at        timestamptz
);
CREATE INDEX IF NOT EXISTS budget_changes_pending_idx ON budget_changes (adset_id) WHERE status = 'pending';

-- Ad-set scores of a day, newest first (the reports and the dashboard read the latest execution).
CREATE INDEX IF NOT EXISTS scoring_history_date_idx ON scoring_history (date DESC, execution_id DESC);
