"""The control UI's list of leads (ads, lead forms and organic), newest first, with the dialog each came from: its
qualification and latest message."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from psycopg.rows import class_row
from pydantic import BaseModel, Field

from clawgate.db import Conn
from clawgate.gateway.data.dialogs import LAST_MESSAGE, Qualification
from clawgate.gateway.data.pages import Page, PageQuery, build_page, decode_cursor

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


def page(conn: Conn, query: LeadQuery) -> Page[Lead]:
    before = decode_cursor(query.cursor, 1)
    rows = conn.cursor(row_factory=class_row(Lead)).execute(
        "SELECT l.id, l.source, l.created_at, l.name, l.phone, l.wa_id, l.ad_id, l.campaign_id, l.ctwa_clid,"
        " l.leadgen_id, l.status, dir.name AS direction, l.dialog_id, d.qualification, last.text AS last_message,"
        " last.at AS last_message_at FROM leads l"
        " LEFT JOIN wa_dialogs d ON d.id = l.dialog_id LEFT JOIN directions dir ON dir.id = l.direction_id "
        + LAST_MESSAGE
        + " WHERE (%(source)s::text IS NULL OR l.source = %(source)s)"
        " AND (%(ad_id)s::text IS NULL OR l.ad_id = %(ad_id)s)"
        " AND (%(qualification)s::text IS NULL OR d.qualification = %(qualification)s)"
        " AND (%(since)s::date IS NULL OR l.created_at >= %(since)s::date)"
        " AND (%(until)s::date IS NULL OR l.created_at < %(until)s::date)"
        " AND (%(before)s::bigint IS NULL OR l.id < %(before)s) ORDER BY l.id DESC LIMIT %(limit)s",
        {**query.model_dump(exclude={"cursor", "limit"}), "before": before[0] if before else None,
         "limit": query.limit + 1},
    ).fetchall()  # fmt: skip
    return build_page(rows, query.limit, lambda lead: [lead.id])
