"""What the operator inbox reads: conversations across every channel (newest activity first, keyset-paginated,
filtered by mode, channel, label, assignee, qualification and source ad), one conversation as the list shows it,
a conversation's latest messages (customer, agent and operator) and a customer's stored attachment."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from psycopg.rows import class_row, dict_row, scalar_row
from pydantic import BaseModel, Field

from clawgate.conversations.data.conversations import WINDOW_EXPIRES
from clawgate.db import Conn
from clawgate.gateway.data.dialogs import Qualification
from clawgate.gateway.data.pages import Page, PageQuery, build_page, decode_cursor

LABEL = r"^[^\x00-\x1f,]{1,40}$"


class ConversationQuery(PageQuery):
    mode: Literal["bot", "human"] | None = None
    channel: str | None = Field(default=None, pattern=r"^[a-z]{2,20}$")
    label: str | None = Field(default=None, pattern=LABEL)
    assignee: str | None = Field(default=None, max_length=100)
    qualification: Qualification | None = None
    ad_id: str | None = Field(default=None, max_length=64, description="the ad that started the conversation")


class SourceAd(BaseModel):
    ad_id: str
    ad_name: str | None = None
    headline: str | None = None
    direction: str | None = None
    creative: str | None = None


class ConversationItem(BaseModel):
    id: int
    channel: str
    account_id: str
    peer_id: str
    wa_id: str | None
    name: str | None
    mode: str
    assignee: str | None
    labels: list[str]
    note: str | None
    unread: int
    last_message_at: datetime
    last_message: str | None
    window_expires_at: datetime | None
    opted_out: bool
    qualification: str | None
    source_ad: SourceAd | None


SELECT_CONVERSATIONS = f"""
SELECT c.id, c.channel, c.account_id, c.peer_id, p.wa_id, coalesce(c.name, p.name) AS name, c.mode, c.assignee,
  c.labels, c.note, c.unread, c.last_message_at, last.text AS last_message, {WINDOW_EXPIRES} AS window_expires_at,
  c.opted_out_at IS NOT NULL AS opted_out, d.qualification, c.source_ad_id, m.ad_name, d.headline,
  dir.name AS direction, cr.title AS creative
FROM conversations c
LEFT JOIN people p ON p.id = c.person_id
LEFT JOIN wa_dialogs d ON c.channel = 'whatsapp' AND d.phone_number_id = c.account_id AND d.user_id = c.peer_id
LEFT JOIN ad_creative_mapping m ON m.ad_id = c.source_ad_id
LEFT JOIN directions dir ON dir.id = m.direction_id
LEFT JOIN creatives cr ON cr.id = m.creative_id
LEFT JOIN LATERAL (
  SELECT t.text FROM (
    (SELECT e.payload->>'text' AS text, e.id AS at_id, e.received_at AS at FROM inbound_events e
      WHERE e.conversation_id = c.id ORDER BY e.id DESC LIMIT 1)
    UNION ALL
    (SELECT o.body, o.id, coalesce(o.sent_at, o.created_at) FROM outbound_messages o
      WHERE o.conversation_id = c.id ORDER BY o.id DESC LIMIT 1)
  ) t ORDER BY t.at DESC LIMIT 1
) last ON true
"""


def _item(row: dict[str, Any]) -> ConversationItem:
    ad_id = row.pop("source_ad_id")
    ad = {k: row.pop(k) for k in ("ad_name", "headline", "direction", "creative")}
    return ConversationItem(**row, source_ad=SourceAd(ad_id=ad_id, **ad) if ad_id else None)


def page(conn: Conn, query: ConversationQuery) -> Page[ConversationItem]:
    after = decode_cursor(query.cursor, 2)
    rows = conn.cursor(row_factory=dict_row).execute(
        SELECT_CONVERSATIONS
        + " WHERE (%(mode)s::text IS NULL OR c.mode = %(mode)s)"
        " AND (%(channel)s::text IS NULL OR c.channel = %(channel)s)"
        " AND (%(label)s::text IS NULL OR %(label)s = ANY (c.labels))"
        " AND (%(assignee)s::text IS NULL OR c.assignee = %(assignee)s)"
        " AND (%(qualification)s::text IS NULL OR d.qualification = %(qualification)s)"
        " AND (%(ad_id)s::text IS NULL OR c.source_ad_id = %(ad_id)s)"
        " AND (%(after_at)s::timestamptz IS NULL OR (c.last_message_at, c.id) < (%(after_at)s, %(after_id)s))"
        " ORDER BY c.last_message_at DESC, c.id DESC LIMIT %(limit)s",
        {**query.model_dump(exclude={"cursor", "limit"}), "after_at": after[0] if after else None,
         "after_id": after[1] if after else None, "limit": query.limit + 1},
    ).fetchall()  # fmt: skip
    return build_page([_item(row) for row in rows], query.limit, lambda item: [item.last_message_at, item.id])


def conversation(conn: Conn, conversation_id: int) -> ConversationItem | None:
    rows = conn.cursor(row_factory=dict_row)
    found = rows.execute(SELECT_CONVERSATIONS + " WHERE c.id = %s", (conversation_id,)).fetchone()
    return _item(found) if found else None


class MessageItem(BaseModel):
    id: str  # in:<inbound event id> or out:<outbound message id>
    direction: Literal["in", "out"]
    author: Literal["customer", "agent", "operator", "system"]
    author_name: str | None
    text: str
    at: datetime
    status: str | None = None  # outbound: sent, delivered, read, failed
    media: list[dict[str, Any]] = []
    template: str | None = None


TRANSCRIPT = """
SELECT * FROM (
  SELECT 'in:' || e.id AS id, 'in' AS direction, 'customer' AS author, e.payload->>'sender_name' AS author_name,
    coalesce(e.payload->>'text', '') AS text, e.received_at AS at, NULL AS status,
    coalesce(e.payload->'media', '[]'::jsonb) AS media, NULL AS template
  FROM inbound_events e WHERE e.conversation_id = %(id)s AND e.kind IN ('message', 'unsupported')
  UNION ALL
  SELECT 'out:' || o.id, 'out', o.author, o.author_name, coalesce(o.body, ''), coalesce(o.sent_at, o.created_at),
    o.status, '[]'::jsonb, o.payload->'template'->>'name'
  FROM outbound_messages o WHERE o.conversation_id = %(id)s
) m ORDER BY at DESC, id DESC LIMIT %(limit)s
"""


def latest_messages(conn: Conn, conversation_id: int, limit: int) -> list[MessageItem]:
    """The latest `limit` messages, newest first; an attachment as it was stored (its `blob_key`, no URL)."""
    messages = conn.cursor(row_factory=class_row(MessageItem))
    return messages.execute(TRANSCRIPT, {"id": conversation_id, "limit": limit}).fetchall()


def stored_media(conn: Conn, conversation_id: int, event_id: int, index: int) -> dict[str, Any] | None:
    """Attachment `index` of an inbound message of this conversation as it was stored, None when there is none."""
    found = conn.cursor(row_factory=scalar_row).execute(
        "SELECT payload->'media'->%s::int FROM inbound_events WHERE id = %s AND conversation_id = %s",
        (index, event_id, conversation_id),
    )
    return found.fetchone()
