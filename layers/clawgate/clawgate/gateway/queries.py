"""What the control UI and the operator API read from a tenant's schema (under its read-only role): leads, WhatsApp
dialogs, the Conversions API log, sessions and their transcripts. Lists are keyset-paginated (`pages`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from clawgate.db import tenant_tx
from clawgate.gateway.pages import Page, PageQuery, build_page, decode_cursor

Qualification = Literal["new", "interested", "scheduled", "not_interested"]
CapiStatus = Literal["pending", "sent", "failed", "skipped"]

# The latest message of a WhatsApp dialog `d`, inbound or outbound.
_LAST_MESSAGE = """LEFT JOIN LATERAL (
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


LeadSource = Literal["ctwa", "ctm", "ctd", "lead_form", "organic"]  # ctm: click to Messenger, ctd: to Instagram Direct


class LeadQuery(PageQuery):
    source: LeadSource | None = None
    ad_id: str | None = Field(default=None, max_length=64)
    qualification: Qualification | None = None
    since: date | None = None
    until: date | None = Field(default=None, description="exclusive")


class Lead(BaseModel):
    id: int
    source: str
    created_at: datetime
    name: str | None
    phone: str | None
    wa_id: str | None
    ad_id: str | None
    campaign_id: str | None
    ctwa_clid: str | None
    leadgen_id: str | None
    status: str
    direction: str | None
    dialog_id: int | None
    qualification: str | None
    last_message: str | None
    last_message_at: datetime | None


def leads(tenant: str, query: LeadQuery) -> Page[Lead]:
    before = decode_cursor(query.cursor, 1)
    with tenant_tx(tenant, "ro") as conn:
        rows = conn.execute(
            "SELECT l.id, l.source, l.created_at, l.name, l.phone, l.wa_id, l.ad_id, l.campaign_id, l.ctwa_clid,"
            " l.leadgen_id, l.status, dir.name, l.dialog_id, d.qualification, last.text, last.at FROM leads l"
            " LEFT JOIN wa_dialogs d ON d.id = l.dialog_id LEFT JOIN directions dir ON dir.id = l.direction_id "
            + _LAST_MESSAGE
            + " WHERE (%(source)s::text IS NULL OR l.source = %(source)s)"
            " AND (%(ad_id)s::text IS NULL OR l.ad_id = %(ad_id)s)"
            " AND (%(qualification)s::text IS NULL OR d.qualification = %(qualification)s)"
            " AND (%(since)s::date IS NULL OR l.created_at >= %(since)s::date)"
            " AND (%(until)s::date IS NULL OR l.created_at < %(until)s::date)"
            " AND (%(before)s::bigint IS NULL OR l.id < %(before)s) ORDER BY l.id DESC LIMIT %(limit)s",
            {**query.model_dump(exclude={"cursor", "limit"}), "before": before[0] if before else None,
             "limit": query.limit + 1},
        ).fetchall()  # fmt: skip
    return build_page(rows, query.limit, lambda r: Lead(**dict(zip(Lead.model_fields, r, strict=True))),
                      lambda lead: [lead.id])  # fmt: skip


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


def dialogs(tenant: str, query: DialogQuery) -> Page[Dialog]:
    after = decode_cursor(query.cursor, 2)
    with tenant_tx(tenant, "ro") as conn:
        rows = conn.execute(
            "SELECT d.id, d.phone_number_id, d.user_id, d.wa_id, d.profile_name, d.qualification, d.summary, d.ad_id,"
            " d.headline, CASE WHEN d.ad_id IS NULL THEN 'organic' WHEN d.channel = 'messenger' THEN 'ctm'"
            " WHEN d.channel = 'instagram' THEN 'ctd' ELSE 'ctwa' END, d.messages_in, d.messages_out,"
            " d.capi_msg_count, d.first_message_at, d.last_message_at, last.text, d.channel FROM wa_dialogs d "
            + _LAST_MESSAGE
            + " WHERE (%(qualification)s::text IS NULL OR d.qualification = %(qualification)s)"
            " AND (%(ad_id)s::text IS NULL OR d.ad_id = %(ad_id)s)"
            " AND (%(with_ad)s::boolean IS NULL OR (d.ad_id IS NOT NULL) = %(with_ad)s)"
            " AND (%(at)s::timestamptz IS NULL OR (d.last_message_at, d.id) < (%(at)s::timestamptz, %(id)s::bigint))"
            " ORDER BY d.last_message_at DESC, d.id DESC LIMIT %(limit)s",
            {**query.model_dump(exclude={"cursor", "limit"}), "at": after[0] if after else None,
             "id": after[1] if after else None, "limit": query.limit + 1},
        ).fetchall()  # fmt: skip
    return build_page(rows, query.limit, lambda r: Dialog(**dict(zip(Dialog.model_fields, r, strict=True))),
                      lambda dialog: [dialog.last_message_at, dialog.id])  # fmt: skip


class CapiQuery(PageQuery):
    status: CapiStatus | None = None
    level: int | None = Field(default=None, ge=0, le=3)


class CapiEvent(BaseModel):
    id: int
    level: int
    event_name: str
    event_id: str
    status: str
    attempts: int
    error: str | None
    dialog_id: int | None
    lead_id: int | None
    created_at: datetime
    sent_at: datetime | None


def capi_log(tenant: str, query: CapiQuery) -> Page[CapiEvent]:
    before = decode_cursor(query.cursor, 1)
    with tenant_tx(tenant, "ro") as conn:
        rows = conn.execute(
            "SELECT id, level, event_name, event_id, status, attempts, error, dialog_id, lead_id, created_at, sent_at"
            " FROM capi_events_log WHERE (%(status)s::text IS NULL OR status = %(status)s)"
            " AND (%(level)s::int IS NULL OR level = %(level)s) AND (%(before)s::bigint IS NULL OR id < %(before)s)"
            " ORDER BY id DESC LIMIT %(limit)s",
            {"status": query.status, "level": query.level, "before": before[0] if before else None,
             "limit": query.limit + 1},
        ).fetchall()  # fmt: skip
    return build_page(rows, query.limit, lambda r: CapiEvent(**dict(zip(CapiEvent.model_fields, r, strict=True))),
                      lambda event: [event.id])  # fmt: skip


class SessionQuery(PageQuery):
    agent: str | None = Field(default=None, max_length=40)
    channel: str | None = Field(default=None, max_length=20)


class SessionSummary(BaseModel):
    id: int
    agent_id: str
    channel: str
    peer_id: str
    title: str | None
    last_message_at: datetime | None
    messages: int


def sessions(tenant: str, query: SessionQuery) -> Page[SessionSummary]:
    after = decode_cursor(query.cursor, 1)
    with tenant_tx(tenant, "ro") as conn:
        rows = conn.execute(
            "SELECT s.id, s.agent_id, s.channel, s.peer_id, s.title, s.last_message_at,"
            " (SELECT count(*) FROM messages m WHERE m.session_id = s.id) FROM sessions s"
            " WHERE (%(agent)s::text IS NULL OR s.agent_id = %(agent)s)"
            " AND (%(channel)s::text IS NULL OR s.channel = %(channel)s)"
            " AND (%(before)s::bigint IS NULL OR s.id < %(before)s) ORDER BY s.id DESC LIMIT %(limit)s",
            {"agent": query.agent, "channel": query.channel, "before": after[0] if after else None,
             "limit": query.limit + 1},
        ).fetchall()  # fmt: skip
    return build_page(rows, query.limit, lambda r: SessionSummary(**dict(zip(SessionSummary.model_fields, r,
                      strict=True))), lambda s: [s.id])  # fmt: skip


class ChatMessage(BaseModel):
    id: int
    role: Literal["user", "assistant"]
    text: str
    turn_id: int | None
    at: datetime


def transcript(tenant: str, session_key: str | None, session_id: int | None, limit: int,
               before: int | None = None) -> list[ChatMessage]:  # fmt: skip
    """The readable part of a session (user and assistant text), oldest first, the latest `limit` rows."""
    with tenant_tx(tenant, "ro") as conn:
        rows = conn.execute(
            "SELECT m.id, m.role, m.text, m.turn_id, m.created_at FROM messages m"
            " JOIN sessions s ON s.id = m.session_id"
            " WHERE (s.session_key = %s OR s.id = %s) AND m.role IN ('user', 'assistant') AND m.text IS NOT NULL"
            " AND (%s::bigint IS NULL OR m.id < %s) ORDER BY m.id DESC LIMIT %s",
            (session_key, session_id, before, before, limit),
        ).fetchall()
    return [ChatMessage(**dict(zip(ChatMessage.model_fields, row, strict=True))) for row in reversed(rows)]
