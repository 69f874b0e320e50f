"""What the conversations domain records when a channel reports something (`clawgate.core.events`), inside Ingest's
transaction: the person behind a new message (WhatsApp: BSUID, phone, username, parent BSUID, what Meta shared this
time adding to what was known; other channels: their peer id as an identity), and a WhatsApp user's new id
(`user_changed_user_id`: the person and their conversation move)."""

from __future__ import annotations

from clawgate.conversations.data.people import record_identity, record_whatsapp_person
from clawgate.conversations.moves import move_whatsapp_user
from clawgate.core import events
from clawgate.db import Conn


@events.subscribe(events.InboundStored, in_transaction=True)
def record_person(conn: Conn, event: events.InboundStored) -> None:
    message = event.message
    if message.channel == "whatsapp":
        record_whatsapp_person(
            conn, message.peer_id, wa_id=message.wa_id, name=message.sender_name,
            username=message.sender_identity.get("username"), parent_bsuid=message.sender_identity.get("parent_bsuid"),
        )  # fmt: skip
    else:
        record_identity(conn, message.channel, "peer", message.peer_id, name=message.sender_name)


@events.subscribe(events.ChannelNotice, in_transaction=True)
def move_user(conn: Conn, event: events.ChannelNotice) -> None:
    if event.message.channel == "whatsapp":
        move_whatsapp_user(conn, event.account_id, event.message.raw)
