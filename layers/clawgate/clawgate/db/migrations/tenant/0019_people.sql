-- People: one row per person the tenant talks to, whatever the channel. WhatsApp knows a person by a
-- business-scoped user id (BSUID, always present since April 2026), sometimes a parent BSUID (`US.ENT.…`, shared
-- across a managed business's portfolios), a phone number (wa_id) only when Meta shares it, and a username.
CREATE TABLE IF NOT EXISTS people (
    id           bigserial PRIMARY KEY,
    name         text,
    username     text,
    bsuid        text,
    parent_bsuid text,
    wa_id        text,            -- the WhatsApp phone number (digits) when Meta shared it: replies go `to` it
    phone        text,            -- a phone number from elsewhere (a lead form): the fallback on error 131062
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS people_bsuid_key ON people (bsuid) WHERE bsuid IS NOT NULL;
CREATE INDEX IF NOT EXISTS people_wa_id_idx ON people (wa_id) WHERE wa_id IS NOT NULL;

-- Every channel identity known for a person: (whatsapp, bsuid, US.134…), (whatsapp, wa_id, 1650…),
-- (telegram, chat, 123…), (webchat, device, …). An identity belongs to one person.
CREATE TABLE IF NOT EXISTS person_identities (
    id          bigserial PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    channel     text NOT NULL,
    kind        text NOT NULL,
    external_id text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT person_identities_key UNIQUE (channel, kind, external_id)
);
CREATE INDEX IF NOT EXISTS person_identities_person_idx ON person_identities (person_id);

-- The people WhatsApp dialogs already know, so replies to them go `to` their phone from the first one on.
INSERT INTO people (bsuid, wa_id, name)
SELECT DISTINCT ON (user_id) user_id, wa_id, profile_name FROM wa_dialogs
WHERE user_id ~ '^[A-Z]{2}\.' ORDER BY user_id, (wa_id IS NULL), updated_at DESC
ON CONFLICT (bsuid) WHERE bsuid IS NOT NULL DO NOTHING;
INSERT INTO person_identities (person_id, channel, kind, external_id)
SELECT id, 'whatsapp', 'bsuid', bsuid FROM people WHERE bsuid IS NOT NULL
UNION ALL SELECT id, 'whatsapp', 'wa_id', wa_id FROM people WHERE wa_id IS NOT NULL
ON CONFLICT (channel, kind, external_id) DO NOTHING;
