"""An operator's message to a channel peer (a WhatsApp user, a Telegram chat, a control-UI device), sent once per
idempotency key through the channel adapter, with an outbound row like any reply."""

from __future__ import annotations

from clawgate.agent.delivery import send_to_peer
from clawgate.core.channels import DeliveryError
from clawgate.tenancy.apply import telegram_account_id
from clawgate.tenancy.registry import cached_tenant, find_channel_account


class SendRefusedError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def default_account(tenant: str, channel: str, agent: str | None) -> str:
    settings = cached_tenant(tenant)
    if channel == "webchat":
        return tenant
    if channel == "whatsapp" and settings.channels.whatsapp:
        return settings.channels.whatsapp[0].phone_number_id
    bots = [b for b in settings.channels.telegram if agent is None or b.agent == agent]
    if channel == "telegram" and bots:
        return telegram_account_id(tenant, bots[0].agent)
    raise LookupError(f"tenant {tenant!r} has no {channel} account" + (f" for agent {agent!r}" if agent else ""))


def send(tenant: str, channel: str, peer: str, text: str, key: str, account_id: str | None, agent: str | None) -> int:
    """Returns how many messages went out (0: this key was sent before)."""
    account = account_id or default_account(tenant, channel, agent)
    found = find_channel_account(channel, account)
    if found is None or found.tenant != tenant:
        raise LookupError(f"tenant {tenant!r} has no {channel} account {account!r}")
    try:
        return send_to_peer(tenant, channel, account, peer, text, key)
    except DeliveryError as error:
        raise SendRefusedError(str(error), retryable=error.retryable) from error
