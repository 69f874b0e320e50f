"""An operator's message to a channel peer (a WhatsApp, Messenger or Instagram user, a Telegram chat, a control-UI
device), sent once per idempotency key through the channel adapter, with an outbound row like any reply. On
Messenger and Instagram a person's message may follow the customer's last one by up to 7 days (`HUMAN_AGENT`)."""

from __future__ import annotations

from clawgate.agent.delivery import send_to_peer
from clawgate.core.channels import DeliveryError
from clawgate.db import registry_tx
from clawgate.tenancy.apply import default_account
from clawgate.tenancy.data.registry import find_channel_account


class SendRefusedError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def send(tenant: str, channel: str, peer: str, text: str, key: str, account_id: str | None, agent: str | None) -> int:
    """Returns how many messages went out (0: this key was sent before)."""
    account = account_id or default_account(tenant, channel, agent)
    with registry_tx() as conn:
        found = find_channel_account(conn, channel, account)
    if found is None or found.tenant != tenant:
        raise LookupError(f"tenant {tenant!r} has no {channel} account {account!r}")
    try:
        return send_to_peer(tenant, channel, account, peer, text, key)
    except DeliveryError as error:
        raise SendRefusedError(str(error), retryable=error.retryable) from error
