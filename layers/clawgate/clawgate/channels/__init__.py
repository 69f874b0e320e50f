"""Messaging channels (WhatsApp Cloud API, Telegram, webchat) behind one contract."""
