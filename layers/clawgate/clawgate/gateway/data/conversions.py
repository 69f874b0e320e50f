"""The control UI's view of the Conversions API log (`capi_events_log`: every event sent to Meta, or waiting, failed
or skipped), newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from psycopg.rows import class_row
from pydantic import BaseModel, Field

from clawgate.db import Conn
from clawgate.gateway.data.pages import Page, PageQuery, build_page, decode_cursor

CapiStatus = Literal["pending", "sent", "failed", "skipped"]


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


def page(conn: Conn, query: CapiQuery) -> Page[CapiEvent]:
    before = decode_cursor(query.cursor, 1)
    rows = conn.cursor(row_factory=class_row(CapiEvent)).execute(
        "SELECT id, level, event_name, event_id, status, attempts, error, dialog_id, lead_id, created_at, sent_at"
        " FROM capi_events_log WHERE (%(status)s::text IS NULL OR status = %(status)s)"
        " AND (%(level)s::int IS NULL OR level = %(level)s) AND (%(before)s::bigint IS NULL OR id < %(before)s)"
        " ORDER BY id DESC LIMIT %(limit)s",
        {"status": query.status, "level": query.level, "before": before[0] if before else None,
         "limit": query.limit + 1},
    ).fetchall()  # fmt: skip
    return build_page(rows, query.limit, lambda event: [event.id])
