-- Messenger and Instagram conversations are dialogs too: the same counters, qualification, ad attribution, leads
-- and Conversions API milestones as WhatsApp's. `wa_dialogs` keeps its name (reports and skills rely on it) and gains
-- the channel; for Messenger `phone_number_id` holds the Page id and `user_id` the page-scoped user id (PSID), for
-- Instagram the professional account id and the Instagram-scoped user id (IGSID). Meta ids are globally unique, so
-- the (phone_number_id, user_id) key still names one dialog.
ALTER TABLE wa_dialogs ADD COLUMN IF NOT EXISTS channel text NOT NULL DEFAULT 'whatsapp';
ALTER TABLE wa_dialogs DROP CONSTRAINT IF EXISTS wa_dialogs_channel_check;
ALTER TABLE wa_dialogs ADD CONSTRAINT wa_dialogs_channel_check CHECK (channel IN ('whatsapp', 'messenger', 'instagram'));

-- Leads from ads that click to Messenger (`ctm`) and to Instagram Direct (`ctd`): one per dialog, like `ctwa`.
ALTER TABLE leads DROP CONSTRAINT IF EXISTS leads_source_check;
ALTER TABLE leads ADD CONSTRAINT leads_source_check CHECK (source IN ('ctwa', 'ctm', 'ctd', 'lead_form', 'organic'));
CREATE UNIQUE INDEX IF NOT EXISTS leads_ctm_dialog_key ON leads (dialog_id) WHERE source = 'ctm';
CREATE UNIQUE INDEX IF NOT EXISTS leads_ctd_dialog_key ON leads (dialog_id) WHERE source = 'ctd';
