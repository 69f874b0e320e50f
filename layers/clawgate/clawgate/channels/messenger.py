"""The Messenger adapter: a Facebook Page's conversations (PSIDs), replies through the Send API on the Graph base
with the Page access token, 2,000 characters per message. The body is shared with Instagram (`meta_messaging`)."""

from __future__ import annotations

from clawgate.channels.meta_messaging import MetaMessagingChannel
from clawgate.tenancy.channel_accounts import MessengerAccount

MAX_TEXT = 2000  # characters

CHANNEL = MetaMessagingChannel("messenger", MAX_TEXT, len, account_field="page_id", account_model=MessengerAccount)
