-- Channels are adapter names (clawgate.core.channels: a module per channel), not a fixed list: Messenger and
-- Instagram accounts route like WhatsApp's, and a channel added later needs no migration. The check keeps the
-- shape of a name (lower-case word; `meta_page` routes Lead Ads pages).
ALTER TABLE channel_accounts DROP CONSTRAINT IF EXISTS channel_accounts_channel_check;
ALTER TABLE channel_accounts ADD CONSTRAINT channel_accounts_channel_check CHECK (channel ~ '^[a-z][a-z0-9_]{1,30}$');
ALTER TABLE pairing_codes DROP CONSTRAINT IF EXISTS pairing_codes_channel_check;
ALTER TABLE pairing_codes ADD CONSTRAINT pairing_codes_channel_check CHECK (channel ~ '^[a-z][a-z0-9_]{1,30}$');
