"""Where a reply to a WhatsApp peer goes. Meta's rule: `to` = the phone whenever it is known (phone sends keep
phone fields in webhooks), `recipient` = the business-scoped user id (BSUID) only when none is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from clawgate.conversations.data.people import Phones, is_bsuid, whatsapp_phones
from clawgate.db import tenant_tx


@dataclass(frozen=True)
class WhatsAppAddress:
    """Where a reply to a WhatsApp peer goes: `to` (a phone) when one is known, else `recipient` (the BSUID);
    `fallback_phone` is a phone known from elsewhere, tried with `to` when Meta answers 131062."""

    to: str | None
    recipient: str | None
    fallback_phone: str | None = None

    def fields(self) -> dict[str, str]:
        return {"to": self.to} if self.to else {"recipient": self.recipient or ""}


def whatsapp_address(tenant: str | None, peer_id: str) -> WhatsAppAddress:
    """The address of a WhatsApp peer: a phone-number peer is its own `to`; a BSUID peer goes `to` the wa_id known
    for the person, and by `recipient` only when no phone is known."""
    if not is_bsuid(peer_id):
        return WhatsAppAddress(to=peer_id, recipient=None)
    if not tenant:
        return WhatsAppAddress(to=None, recipient=peer_id)
    with tenant_tx(tenant, "ro") as conn:
        phones = whatsapp_phones(conn, peer_id) or Phones(wa_id=None, phone=None)
    if phones.wa_id:
        return WhatsAppAddress(to=str(phones.wa_id), recipient=None)
    return WhatsAppAddress(to=None, recipient=peer_id, fallback_phone=_digits(phones.phone))


def _digits(phone: Any) -> str | None:
    digits = re.sub(r"\D", "", str(phone or "")).lstrip("0")
    return digits or None
