"""Meta: Click-to-WhatsApp attribution, dialogs, Lead Ads, the Conversions API and the Marketing API."""
