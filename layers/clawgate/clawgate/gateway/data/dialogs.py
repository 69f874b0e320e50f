"""The control UI's list of dialogs (`wa_dialogs`: one per customer on WhatsApp, Messenger or Instagram), latest
message first, with the message itself and whether an ad started the dialog."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from psycopg.rows import class_row
from pydantic import BaseModel, Field

from clawgate.db import Conn
from clawgate.gateway.data.pages import Page, PageQuery, build_page, decode_cursor

Qualification = Literal["new", "interested", "scheduled", "not_interested"]

# The latest message of a dialog `d`, inbound or outbound.
LAST_MESSAGE = """LEFT JOIN LATERAL (
  SELECT m.text, m.at, m.direction FROM (
    (SELECT e.payload->>'text' AS text, e.received_at AS at, 'in' AS direction FROM inbound_events e
      WHERE e.conversation_key = d.channel || ':' || d.phone_number_id || ':' || d.user_id AND e.kind = 'message'
      ORDER BY e.id DESC LIMIT 1)
    UNION ALL
    (SELECT o.body, coalesce(o.sent_at, o.created_at), 'out' FROM outbound_messages o
      WHERE o.channel = d.channel AND o.account_id = d.phone_number_id AND o.peer_id = d.user_id
      ORDER BY o.id DESC LIMIT 1)
  ) m ORDER BY m.at DESC LIMIT 1
) last ON d.id IS NOT NULL"""


class DialogQuery(PageQuery):
    qualification: Qualification | None = None
    ad_id: str | None = Field(default=None, max_length=64)
    with_ad: bool | None = Field(default=None, description="only dialogs that started from an ad (or only not)")


class Dialog(BaseModel):
    id: int
    phone_number_id: str
    user_id: str
    wa_id: str | None
    profile_name: str | None
    qualification: str
    summary: str | None
    ad_id: str | None
    headline: str | None
    source: str  # started from an ad: ctwa (WhatsApp), ctm (Messenger), ctd (Instagram Direct); else organic
    messages_in: int
    messages_out: int
    capi_msg_count: int
    first_message_at: datetime
    last_message_at: datetime
    last_message: str | None
    channel: str  # whatsapp | messenger | instagram (phone_number_id is then the Page or Instagram account id)


def page(conn: Conn, query: DialogQuery) -> Page[Dialog]:
    after = decode_cursor(query.cursor, 2)
    rows = conn.cursor(row_factory=class_row(Dialog)).execute(
        "SELECT d.id, d.phone_number_id, d.user_id, d.wa_id, d.profile_name, d.qualification, d.summary, d.ad_id,"
        " d.headline, CASE WHEN d.ad_id IS NULL THEN 'organic' WHEN d.channel = 'messenger' THEN 'ctm'"
        " WHEN d.channel = 'instagram' THEN 'ctd' ELSE 'ctwa' END AS source, d.messages_in, d.messages_out,"
        " d.capi_msg_count, d.first_message_at, d.last_message_at, last.text AS last_message, d.channel"
        " FROM wa_dialogs d "
        + LAST_MESSAGE
        + " WHERE (%(qualification)s::text IS NULL OR d.qualification = %(qualification)s)"
        " AND (%(ad_id)s::text IS NULL OR d.ad_id = %(ad_id)s)"
        " AND (%(with_ad)s::boolean IS NULL OR (d.ad_id IS NOT NULL) = %(with_ad)s)"
        " AND (%(at)s::timestamptz IS NULL OR (d.last_message_at, d.id) < (%(at)s::timestamptz, %(id)s::bigint))"
        " ORDER BY d.last_message_at DESC, d.id DESC LIMIT %(limit)s",
        {**query.model_dump(exclude={"cursor", "limit"}), "at": after[0] if after else None,
         "id": after[1] if after else None, "limit": query.limit + 1},
    ).fetchall()  # fmt: skip
    return build_page(rows, query.limit, lambda dialog: [dialog.last_message_at, dialog.id])
