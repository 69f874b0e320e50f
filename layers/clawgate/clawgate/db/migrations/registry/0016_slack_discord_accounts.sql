-- Slack apps and Discord applications route like Telegram bots (`<tenant>/<agent>`). Channels are adapter names
-- (clawgate.core.channels: a module per channel), so the check keeps the shape of a name rather than a fixed list,
-- and the next channel needs no migration (`meta_page` routes Lead Ads pages).
ALTER TABLE channel_accounts DROP CONSTRAINT IF EXISTS channel_accounts_channel_check;
ALTER TABLE channel_accounts ADD CONSTRAINT channel_accounts_channel_check CHECK (channel ~ '^[a-z][a-z0-9_]{1,30}$');
ALTER TABLE pairing_codes DROP CONSTRAINT IF EXISTS pairing_codes_channel_check;
ALTER TABLE pairing_codes ADD CONSTRAINT pairing_codes_channel_check CHECK (channel ~ '^[a-z][a-z0-9_]{1,30}$');
