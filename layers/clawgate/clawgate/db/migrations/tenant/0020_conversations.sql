-- Conversations: one peer on one channel account (a WhatsApp user on the tenant's number, a Telegram chat, a
-- web-chat device; Messenger and Instagram later), whatever the channel. In mode `bot` the agent answers; in mode
-- `human` a person does: inbound messages are stored, shown and notified, and no model is called.
CREATE TABLE IF NOT EXISTS conversations (
    id               bigserial PRIMARY KEY,
    channel          text NOT NULL,
    account_id       text NOT NULL,
    peer_id          text NOT NULL,
    person_id        bigint REFERENCES people (id) ON DELETE SET NULL,
    name             text,
    mode             text NOT NULL DEFAULT 'bot' CHECK (mode IN ('bot', 'human')),
    mode_changed_at  timestamptz,
    assignee         text,
    labels           text[] NOT NULL DEFAULT '{}',
    note             text,
    source_ad_id     text,             -- the ad that started the conversation (a Click-to-WhatsApp referral)
    unread           int NOT NULL DEFAULT 0,
    last_message_at  timestamptz NOT NULL DEFAULT now(),
    last_customer_at timestamptz,      -- the provider's timestamp of the customer's last message: the window opens
    free_entry_until timestamptz,      -- a Click-to-WhatsApp entry opens a 72-hour window from its first message
    last_operator_at timestamptz,
    opted_out_at     timestamptz,      -- the customer wrote STOP: nothing but the confirmation goes out to them
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversations_peer_key UNIQUE (channel, account_id, peer_id)
);
CREATE INDEX IF NOT EXISTS conversations_recent_idx ON conversations (last_message_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS conversations_human_idx ON conversations (mode_changed_at) WHERE mode = 'human';

-- Every switch of mode, who made it (agent, operator:<name>, rule:<name>, timeout) and why: hand-offs per day.
CREATE TABLE IF NOT EXISTS conversation_mode_changes (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    mode            text NOT NULL CHECK (mode IN ('bot', 'human')),
    changed_by      text NOT NULL,
    reason          text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS conversation_mode_changes_at_idx ON conversation_mode_changes (at, mode);

-- The conversation of each stored message, and who wrote each outbound one.
ALTER TABLE inbound_events ADD COLUMN IF NOT EXISTS conversation_id bigint;
CREATE INDEX IF NOT EXISTS inbound_events_conversation_id_idx ON inbound_events (conversation_id, id)
    WHERE conversation_id IS NOT NULL;
ALTER TABLE outbound_messages ADD COLUMN IF NOT EXISTS conversation_id bigint;
ALTER TABLE outbound_messages ADD COLUMN IF NOT EXISTS author text NOT NULL DEFAULT 'agent';
ALTER TABLE outbound_messages ADD COLUMN IF NOT EXISTS author_name text;
ALTER TABLE outbound_messages DROP CONSTRAINT IF EXISTS outbound_messages_author_check;
ALTER TABLE outbound_messages ADD CONSTRAINT outbound_messages_author_check
    CHECK (author IN ('agent', 'operator', 'system'));
CREATE INDEX IF NOT EXISTS outbound_messages_conversation_id_idx ON outbound_messages (conversation_id, id)
    WHERE conversation_id IS NOT NULL;

-- The conversations that already exist: every WhatsApp dialog, and every messenger session with an account.
INSERT INTO conversations (channel, account_id, peer_id, name, source_ad_id, last_message_at, last_customer_at,
                           person_id)
SELECT 'whatsapp', d.phone_number_id, d.user_id, d.profile_name, d.ad_id, d.last_message_at, d.last_inbound_at,
       (SELECT p.id FROM people p WHERE p.bsuid = d.user_id)
FROM wa_dialogs d
ON CONFLICT (channel, account_id, peer_id) DO NOTHING;
INSERT INTO conversations (channel, account_id, peer_id, last_message_at)
SELECT channel, account_id, peer_id, max(coalesce(last_message_at, created_at)) FROM sessions
WHERE account_id IS NOT NULL AND channel IN ('whatsapp', 'telegram', 'webchat')
GROUP BY channel, account_id, peer_id
ON CONFLICT (channel, account_id, peer_id) DO NOTHING;
UPDATE inbound_events e SET conversation_id = c.id FROM conversations c
WHERE e.conversation_id IS NULL AND e.channel = c.channel AND e.account_id = c.account_id AND e.peer_id = c.peer_id;
UPDATE outbound_messages o SET conversation_id = c.id FROM conversations c
WHERE o.conversation_id IS NULL AND o.channel = c.channel AND o.account_id = c.account_id AND o.peer_id = c.peer_id;
