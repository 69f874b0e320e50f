"""The conversions aggregate (`capi_events_log`): one row per Conversions API milestone, unique by its event_id, from
the transaction that reached it to the sender's last attempt. A row is inserted `pending` or `skipped` (with the
reason in `error`), leased to one sender at a time (`claimed_until`), and finished `sent`, `failed` or `skipped`;
every attempt is appended to `attempt_log`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from psycopg.rows import class_row, scalar_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


@dataclass(frozen=True)
class LoggedEvent:
    id: int
    event_id: str


@dataclass(frozen=True)
class PendingEvent:
    """A claimed `capi_events_log` row with what its event needs."""

    log_id: int
    level: int
    event_name: str
    event_id: str
    event_time: int  # when the milestone was reached (unix seconds), the same on every attempt
    ctwa_clid: str | None
    phone: str | None
    leadgen_id: str | None
    enabled: bool
    dataset_id: str | None
    test_event_code: str | None
    currency: str | None
    value: Decimal | None
    channel: str | None = None  # the dialog's: whatsapp | messenger | instagram
    account_id: str | None = None  # phone_number_id, Page id or Instagram account id
    user_id: str | None = None  # BSUID, PSID or IGSID


def insert_dialog_milestone(conn: Conn, dialog_id: int, level: int, event_id: str, default_name: str) -> int | None:
    """A dialog's milestone, once per event_id: `pending` when the tenant sends CAPI events and the dialog is
    attributable (a WhatsApp dialog needs a ctwa_clid), else `skipped` with the reason. The row's id when it is new
    and pending, else None."""
    return (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO capi_events_log (dialog_id, level, event_name, event_id, status, error)"
            " SELECT d.id, %(level)s, coalesce((ARRAY[s.event_l1, s.event_l2, s.event_l3])[%(level)s::int],"
            " %(default)s), %(eid)s, CASE WHEN s.enabled IS TRUE AND (d.channel <> 'whatsapp' OR d.ctwa_clid IS NOT"
            " NULL) THEN 'pending' ELSE 'skipped' END, CASE WHEN s.enabled IS NOT TRUE THEN 'CAPI disabled'"
            " WHEN d.channel = 'whatsapp' AND d.ctwa_clid IS NULL THEN 'no ctwa_clid' END"
            " FROM wa_dialogs d LEFT JOIN capi_settings s ON s.id = 1 WHERE d.id = %(dialog)s"
            " ON CONFLICT (event_id) DO NOTHING RETURNING CASE WHEN status = 'pending' THEN id END",
            {"level": level, "default": default_name, "eid": event_id, "dialog": dialog_id},
        )
        .fetchone()
    )


def insert_crm_event(conn: Conn, lead_id: int, level: int, event_id: str, default_name: str) -> int | None:
    """A Lead Ads lead's CRM event, `pending`, when the tenant sends CAPI events and CRM events; its id when new."""
    return (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO capi_events_log (lead_id, level, event_name, event_id, status)"
            " SELECT %s, %s, coalesce(s.crm_event_name, %s), %s, 'pending' FROM capi_settings s"
            " WHERE s.id = 1 AND s.enabled AND s.crm_enabled ON CONFLICT (event_id) DO NOTHING RETURNING id",
            (lead_id, level, default_name, event_id),
        )
        .fetchone()
    )


def stale_pending(conn: Conn, older_than_s: int, limit: int = 1000) -> list[LoggedEvent]:
    """Pending events older than `older_than_s` that no sender holds a lease on, oldest first."""
    return (
        conn.cursor(row_factory=class_row(LoggedEvent))
        .execute(
            "SELECT id, event_id FROM capi_events_log WHERE status = 'pending'"
            " AND created_at < now() - %s * interval '1 s' AND (claimed_until IS NULL OR claimed_until < now())"
            " ORDER BY id LIMIT %s",
            (older_than_s, limit),
        )
        .fetchall()
    )


CLAIM = (  # the pending events among these ids, leased to this sender, with what building each event needs
    "WITH claimed AS (UPDATE capi_events_log SET claimed_until = now() + %s * interval '1 s',"
    " updated_at = now() WHERE id = ANY(%s) AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < now())"
    " RETURNING id, dialog_id, lead_id, level, event_name, event_id, created_at)"
    " SELECT c.id AS log_id, c.level, c.event_name, c.event_id, extract(epoch FROM c.created_at)::bigint AS event_time,"
    " d.ctwa_clid, d.wa_id AS phone, l.leadgen_id, coalesce(s.enabled, false) AS enabled, s.dataset_id,"
    " s.test_event_code, s.currency, s.l3_value AS value, d.channel, d.phone_number_id AS account_id, d.user_id"
    " FROM claimed c LEFT JOIN wa_dialogs d ON d.id = c.dialog_id"
    " LEFT JOIN leads l ON l.id = c.lead_id LEFT JOIN capi_settings s ON s.id = 1 ORDER BY c.id"
)


def claim(conn: Conn, log_ids: list[int], lease_s: int) -> list[PendingEvent]:
    """Lease the still pending events among `log_ids` for `lease_s` seconds (an event leased to another sender is
    left out)."""
    return conn.cursor(row_factory=class_row(PendingEvent)).execute(CLAIM, (lease_s, log_ids)).fetchall()


def record_attempt(
    conn: Conn, log_ids: list[int], status: str, entry: dict[str, Any], *, request: dict[str, Any],
    response: dict[str, Any] | None, error: str | None, error_code: int | None, release_claim: bool,
) -> None:  # fmt: skip
    """One attempt at sending these events: its outcome on every row, and `entry` appended to their attempt log."""
    conn.execute(
        "UPDATE capi_events_log SET attempts = attempts + 1, status = %(status)s, request = %(request)s,"
        " response = %(response)s, error = %(error)s, error_code = %(code)s, fbtrace_id = %(trace)s,"
        " sent_at = CASE WHEN %(status)s = 'sent' THEN now() ELSE sent_at END,"
        " claimed_until = CASE WHEN %(release)s THEN NULL ELSE claimed_until END,"
        " attempt_log = attempt_log || %(entry)s, updated_at = now() WHERE id = ANY(%(ids)s)",
        {"status": status, "request": Jsonb(request), "response": Jsonb(response) if response else None,
         "error": error, "code": error_code, "trace": entry.get("fbtrace_id"), "release": release_claim,
         "entry": Jsonb([entry]), "ids": log_ids},
    )  # fmt: skip


def finish_unsent(conn: Conn, log_ids: list[int], status: str, reason: str) -> None:
    conn.execute(
        "UPDATE capi_events_log SET status = %s, error = %s, claimed_until = NULL, updated_at = now()"
        " WHERE id = ANY(%s)",
        (status, reason, log_ids),
    )


def release(conn: Conn, log_ids: list[int]) -> None:
    conn.execute("UPDATE capi_events_log SET claimed_until = NULL WHERE id = ANY(%s)", (log_ids,))


def failed_lately(conn: Conn, error_code: int, within: str, other_than: list[int]) -> bool:
    """Whether an event other than these failed with this Graph error code within `within` (an interval)."""
    return (
        conn.execute(
            "SELECT 1 FROM capi_events_log WHERE status = 'failed' AND error_code = %s"
            " AND updated_at > now() - %s::interval AND NOT (id = ANY(%s)) LIMIT 1",
            (error_code, within, other_than),
        ).fetchone()
        is not None
    )
