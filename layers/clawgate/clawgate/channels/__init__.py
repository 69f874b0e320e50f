"""Messaging channels (WhatsApp Cloud API, Telegram, webchat) behind one contract (`channels.contract`).

This package's top level stays import-free: the webhook functions import `channels.*_webhook` and must not pay for
pydantic or httpx. `get_channel` imports a channel module on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clawgate.channels.contract import Channel
    from clawgate.tenancy.registry import ChannelAccount

_MODULES = {"whatsapp": "clawgate.channels.whatsapp", "telegram": "clawgate.channels.telegram",
            "webchat": "clawgate.channels.webchat"}  # fmt: skip


class UnknownChannelError(LookupError):
    pass


def get_channel(name: str) -> Channel:
    """The adapter of a channel (`whatsapp`, `telegram`): its module's `CHANNEL` object."""
    module = _MODULES.get(name)
    if module is None:
        raise UnknownChannelError(f"no channel adapter {name!r}; known: {sorted(_MODULES)}")
    channel: Channel = importlib.import_module(module).CHANNEL
    return channel


def account_config(account: ChannelAccount) -> dict[str, Any]:
    """What `send_text`/`show_activity` take as `account`: the registry config plus the account id (a WhatsApp
    account's phone_number_id is its account id, not part of its config)."""
    return {**account.config, "account_id": account.account_id, "tenant": account.tenant, "agent_id": account.agent_id}
