"""The people aggregate: people and their channel identities. WhatsApp: the business-scoped user id (BSUID) is
always present and keys the conversation; the phone number (wa_id) only when Meta shares it
(`conversations/addressing.py` decides where a reply goes from what is known here)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg.rows import class_row, scalar_row

from clawgate.db import Conn

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
    person_id = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "SELECT person_id FROM person_identities WHERE channel = %s AND kind = %s AND external_id = %s",
            (channel, kind, external_id),
        )
        .fetchone()
    )
    if person_id is not None:
        if name:
            conn.execute("UPDATE people SET name = %s, updated_at = now() WHERE id = %s AND name IS DISTINCT FROM %s",
                         (name, person_id, name))  # fmt: skip
        return int(person_id)
    person_id = (
        conn.cursor(row_factory=scalar_row)
        .execute("INSERT INTO people (name, wa_id) VALUES (%s, %s) RETURNING id", (name, wa_id))
        .fetchone()
    )
    assert person_id is not None
    conn.execute(
        "INSERT INTO person_identities (person_id, channel, kind, external_id) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (channel, kind, external_id) DO NOTHING",
        (person_id, channel, kind, external_id),
    )
    return int(person_id)


@dataclass(frozen=True)
class Phones:
    """What is known of a WhatsApp person's phone: the wa_id Meta shared, and a phone learnt elsewhere."""

    wa_id: str | None
    phone: str | None


def whatsapp_phones(conn: Conn, bsuid: str) -> Phones | None:
    """The phones of the person with this BSUID (their own, or through an identity); None for an unknown person."""
    return (
        conn.cursor(row_factory=class_row(Phones))
        .execute(
            "SELECT p.wa_id, p.phone FROM people p WHERE p.bsuid = %(peer)s UNION ALL"
            " SELECT p.wa_id, p.phone FROM person_identities i JOIN people p ON p.id = i.person_id"
            " WHERE i.channel = 'whatsapp' AND i.kind = 'bsuid' AND i.external_id = %(peer)s LIMIT 1",
            {"peer": bsuid},
        )
        .fetchone()
    )


# `user_changed_user_id`: the person's new id, everywhere it keys a row. Nothing is copied and nothing is lost: a
# row already under the new id (a person, a dialog, a session, a conversation) is kept and the old one left.
MOVE_WHATSAPP_USER = (
    # the person: the new id becomes the BSUID (unless the new id already has its own person row)
    "UPDATE people SET bsuid = %(new)s, parent_bsuid = coalesce(%(parent)s, parent_bsuid),"
    " wa_id = coalesce(%(wa_id)s, wa_id), updated_at = now()"
    " WHERE bsuid = %(old)s AND NOT EXISTS (SELECT 1 FROM people WHERE bsuid = %(new)s)",
    "INSERT INTO person_identities (person_id, channel, kind, external_id)"
    " SELECT id, 'whatsapp', 'bsuid', %(new)s FROM people WHERE bsuid = %(new)s"
    " ON CONFLICT (channel, kind, external_id) DO NOTHING",
    "UPDATE wa_dialogs SET user_id = %(new)s, wa_id = coalesce(%(wa_id)s, wa_id), updated_at = now()"
    " WHERE phone_number_id = %(account)s AND user_id = %(old)s"
    " AND NOT EXISTS (SELECT 1 FROM wa_dialogs WHERE phone_number_id = %(account)s AND user_id = %(new)s)",
    "UPDATE leads SET user_id = %(new)s, updated_at = now() WHERE user_id = %(old)s",
    "UPDATE sessions SET peer_id = %(new)s, session_key = agent_id || ':whatsapp:' || %(new)s, updated_at = now()"
    " WHERE channel = 'whatsapp' AND peer_id = %(old)s AND account_id IS NOT DISTINCT FROM %(account)s"
    " AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.session_key = sessions.agent_id || ':whatsapp:' || %(new)s)",
    "UPDATE inbound_events SET peer_id = %(new)s, conversation_key = %(new_key)s"
    " WHERE channel = 'whatsapp' AND account_id = %(account)s AND peer_id = %(old)s",
    "UPDATE outbound_messages SET peer_id = %(new)s"
    " WHERE channel = 'whatsapp' AND account_id = %(account)s AND peer_id = %(old)s",
    "UPDATE conversations SET peer_id = %(new)s, updated_at = now()"
    " WHERE channel = 'whatsapp' AND account_id = %(account)s AND peer_id = %(old)s"
    " AND NOT EXISTS (SELECT 1 FROM conversations WHERE channel = 'whatsapp' AND account_id = %(account)s"
    " AND peer_id = %(new)s)",
)


def move_whatsapp_user(
    conn: Conn, account_id: str, old: str, new: str, *, wa_id: str | None, parent_bsuid: str | None
) -> None:
    """The WhatsApp user `old` of the account is `new` from now on: the person, the dialog and its lead, the
    agent's sessions, the stored inbound and outbound rows and the conversation follow."""
    params = {"old": old, "new": new, "account": account_id, "wa_id": wa_id, "parent": parent_bsuid,
              "new_key": f"whatsapp:{account_id}:{new}"}  # fmt: skip
    for statement in MOVE_WHATSAPP_USER:
        conn.execute(statement, params)
