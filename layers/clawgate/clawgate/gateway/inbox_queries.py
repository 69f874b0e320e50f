"""What the operator inbox reads: conversations across every channel (newest activity first, keyset-paginated,
filtered by mode, channel, label, assignee, qualification and source ad) and a conversation's transcript (customer,
agent and operator messages, oldest first)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from clawgate.conversations.data.conversations import WINDOW_EXPIRES
from clawgate.db import tenant_tx
from clawgate.gateway.data.pages import Page, PageQuery, decode_cursor, encode_cursor
from clawgate.gateway.inbox_media import media_path

Qualification = Literal["new", "interested", "scheduled", "not_interested"]
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


def conversations(tenant: str, query: ConversationQuery) -> Page[ConversationItem]:
    after = decode_cursor(query.cursor, 2)
    with tenant_tx(tenant, "ro") as conn, conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(
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
    items = [_item(dict(row)) for row in rows[: query.limit]]
    more = len(rows) > query.limit and items
    return Page[ConversationItem](
        items=items, next_cursor=encode_cursor([items[-1].last_message_at, items[-1].id]) if more else None
    )


def conversation(tenant: str, conversation_id: int) -> ConversationItem:
    with tenant_tx(tenant, "ro") as conn, conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(SELECT_CONVERSATIONS + " WHERE c.id = %s", (conversation_id,)).fetchone()
    if row is None:
        raise LookupError(f"no conversation {conversation_id}")
    return _item(dict(row))


class MessageItem(BaseModel):
    id: str
    direction: Literal["in", "out"]
    author: Literal["customer", "agent", "operator", "system"]
    author_name: str | None
    text: str
    at: datetime
    status: str | None = None  # outbound: sent, delivered, read, failed
    media: list[dict[str, Any]] = []
    template: str | None = None


class MessagesPage(BaseModel):
    items: list[MessageItem]
    conversation: ConversationItem


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


def transcript(tenant: str, conversation_id: int, limit: int) -> MessagesPage:
    """The latest `limit` messages, oldest first; reading them marks the conversation read."""
    item = conversation(tenant, conversation_id)
    with tenant_tx(tenant, "ro") as conn, conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(TRANSCRIPT, {"id": conversation_id, "limit": limit}).fetchall()
    return MessagesPage(items=[_message(tenant, conversation_id, row) for row in reversed(rows)], conversation=item)


def _message(tenant: str, conversation_id: int, row: dict[str, Any]) -> MessageItem:
    return MessageItem(**row | {"media": with_media_urls(tenant, conversation_id, row["id"], row["media"])})


def with_media_urls(tenant: str, conversation_id: int, message_id: str, media: list[dict[str, Any]] | None) -> list[
        dict[str, Any]]:  # fmt: skip
    """A customer's stored attachment gets the operator API path that serves it (the web UI fetches it with the
    token); one not stored has none."""
    event_id = int(message_id.removeprefix("in:")) if message_id.startswith("in:") else 0
    return [{**m, "url": media_path(tenant, conversation_id, event_id, n)} if event_id and m.get("blob_key") else m
            for n, m in enumerate(media or [])]  # fmt: skip
