"""Messaging channels (WhatsApp Cloud API, Telegram, web chat): one adapter module per channel behind the contract
in `clawgate.core.channels`, found there by name (`get_adapter("whatsapp")` is `clawgate.channels.whatsapp.CHANNEL`).

This package's top level stays import-free: the webhook functions import `channels.*_webhook` and must not pay for
pydantic or httpx.
"""
