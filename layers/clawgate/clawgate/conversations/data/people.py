"""People and their channel identities. WhatsApp: the business-scoped user id (BSUID) is always present and keys
the conversation; the phone number (wa_id) only when Meta shares it. Meta's rule for replies: `to` = the phone
whenever it is known (phone sends keep phone fields in webhooks), `recipient` = the BSUID only when none is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from clawgate.db import Conn, tenant_tx

_BSUID = re.compile(r"^[A-Z]{2}\.")

UPSERT_WHATSAPP_PERSON = (
    "WITH person AS ("
    " INSERT INTO people (bsuid, parent_bsuid, wa_id, username, name)"
    " VALUES (%(bsuid)s, %(parent)s, %(wa_id)s, %(username)s, %(name)s)"
    " ON CONFLICT (bsuid) WHERE bsuid IS NOT NULL DO UPDATE SET"
    " parent_bsuid = coalesce(EXCLUDED.parent_bsuid, people.parent_bsuid),"
    " wa_id = coalesce(EXCLUDED.wa_id, people.wa_id), username = coalesce(EXCLUDED.username, people.username),"
    " name = coalesce(EXCLUDED.name, people.name), updated_at = now() RETURNING id)"
    " INSERT INTO person_identities (person_id, channel, kind, external_id)"
    " SELECT person.id, 'whatsapp', i.kind, i.external_id FROM person,"
    " (VALUES ('bsuid', %(bsuid)s), ('wa_id', %(wa_id)s), ('parent_bsuid', %(parent)s)) AS i (kind, external_id)"
    " WHERE i.external_id IS NOT NULL ON CONFLICT (channel, kind, external_id) DO NOTHING"
)


def is_bsuid(peer_id: str) -> bool:
    """`US.13491208655302741918` (or a parent `US.ENT.…`), as opposed to a phone number's digits."""
    return bool(_BSUID.match(peer_id))


def record_whatsapp_person(
    conn: Conn, peer_id: str, *, wa_id: str | None, name: str | None, username: str | None = None,
    parent_bsuid: str | None = None,
) -> None:  # fmt: skip
    """Upsert the person behind a WhatsApp message: what Meta shared this time adds to what was known (a message
    without the phone never forgets a phone learnt before)."""
    bsuid = peer_id if is_bsuid(peer_id) else None
    if bsuid is None:  # a conversation keyed on the phone (before BSUIDs): known by its wa_id identity
        record_identity(conn, "whatsapp", "wa_id", peer_id, name=name, wa_id=peer_id)
        return
    conn.execute(
        UPSERT_WHATSAPP_PERSON,
        {"bsuid": bsuid, "parent": parent_bsuid, "wa_id": wa_id or None, "username": username, "name": name},
    )


def record_identity(
    conn: Conn, channel: str, kind: str, external_id: str, *, name: str | None = None, wa_id: str | None = None
) -> int:
    """The person behind a channel identity (a Telegram chat, a web-chat device, a phone), created on first sight."""
    row = conn.execute(
        "SELECT person_id FROM person_identities WHERE channel = %s AND kind = %s AND external_id = %s",
        (channel, kind, external_id),
    ).fetchone()
    if row is not None:
        if name:
            conn.execute("UPDATE people SET name = %s, updated_at = now() WHERE id = %s AND name IS DISTINCT FROM %s",
                         (name, row[0], name))  # fmt: skip
        return int(row[0])
    person = conn.execute("INSERT INTO people (name, wa_id) VALUES (%s, %s) RETURNING id", (name, wa_id)).fetchone()
    assert person is not None
    conn.execute(
        "INSERT INTO person_identities (person_id, channel, kind, external_id) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (channel, kind, external_id) DO NOTHING",
        (person[0], channel, kind, external_id),
    )
    return int(person[0])


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
        row = conn.execute(
            "SELECT p.wa_id, p.phone FROM people p WHERE p.bsuid = %(peer)s UNION ALL"
            " SELECT p.wa_id, p.phone FROM person_identities i JOIN people p ON p.id = i.person_id"
            " WHERE i.channel = 'whatsapp' AND i.kind = 'bsuid' AND i.external_id = %(peer)s LIMIT 1",
            {"peer": peer_id},
        ).fetchone()
    wa_id, phone = row if row else (None, None)
    if wa_id:
        return WhatsAppAddress(to=str(wa_id), recipient=None)
    return WhatsAppAddress(to=None, recipient=peer_id, fallback_phone=_digits(phone))


def _digits(phone: Any) -> str | None:
    digits = re.sub(r"\D", "", str(phone or "")).lstrip("0")
    return digits or None
