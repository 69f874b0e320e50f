"""The Instagram adapter (Instagram API with Instagram Login): a professional account's direct messages (IGSIDs),
replies through the Send API on the Instagram API base with the account's token, 1,000 bytes (UTF-8) per message.
The body is shared with Messenger (`meta_messaging`)."""

from __future__ import annotations

from clawgate.channels.meta_messaging import MetaMessagingChannel
from clawgate.tenancy.channel_accounts import InstagramAccount

MAX_TEXT_BYTES = 1000


def utf8_length(text: str) -> int:
    return len(text.encode())


CHANNEL = MetaMessagingChannel(
    "instagram", MAX_TEXT_BYTES, utf8_length, account_field="ig_user_id", account_model=InstagramAccount
)
