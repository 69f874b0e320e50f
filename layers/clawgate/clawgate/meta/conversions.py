"""Conversions API milestones, recorded exactly once and sent later by the capi queue's worker (capi_sender.py).

Levels (names from `capi_settings`, configurable per tenant): 1 when a dialog's `capi_msg_count` reaches the
threshold (LeadSubmitted), 2 when it is qualified `interested` (QualifiedLead), 3 when `scheduled` (Purchase); 0 is
the CRM event of a Lead Ads lead (`capi.crm_events` in the tenant file).

A milestone is a `capi_events_log` row inserted in the transaction that reached it. Its event_id is derived from
tenant + dialog (or lead) + level, and unique: each level is recorded at most once per dialog, ever, however often
the milestone is reached again. A row is `pending` (a `CapiJob` to put on the queue once the transaction commits) or
`skipped` at once, with the reason in `error`: CAPI disabled for the tenant, or (WhatsApp) no ctwa_clid to attribute
it to. Messenger and Instagram dialogs are always attributable: the page- or Instagram-scoped user id is the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from clawgate.core import ports
from clawgate.core.ports import QueueMessage
from clawgate.db import Conn

QUEUE = "capi"
CRM_LEVEL = 0
DEFAULT_EVENTS = {1: "LeadSubmitted", 2: "QualifiedLead", 3: "Purchase", CRM_LEVEL: "Lead"}
STALE_AFTER_S = 600  # a pending event older than this was never queued (the process died after the commit)


@dataclass(frozen=True)
class CapiJob:
    tenant: str
    log_id: int
    event_id: str

    def message(self) -> QueueMessage:
        body = json.dumps({"tenant": self.tenant, "log_id": self.log_id, "event_id": self.event_id})
        return QueueMessage(body, dedup_id=self.event_id)


def event_id(tenant: str, subject: str, level: int) -> str:
    """Stable across retries and replays: the same tenant, dialog (or lead) and level give the same id."""
    return hashlib.sha256(f"clawgate:{tenant}:{subject}:L{level}".encode()).hexdigest()


def record_dialog_milestone(conn: Conn, tenant: str, dialog_id: int, level: int) -> list[CapiJob]:
    """Record that a dialog reached `level` (1-3); the job to enqueue after commit, if one is due."""
    eid = event_id(tenant, f"wa_dialog:{dialog_id}", level)
    row = conn.execute(
        "INSERT INTO capi_events_log (dialog_id, level, event_name, event_id, status, error)"
        " SELECT d.id, %(level)s, coalesce((ARRAY[s.event_l1, s.event_l2, s.event_l3])[%(level)s::int], %(default)s),"
        " %(eid)s, CASE WHEN s.enabled IS TRUE AND (d.channel <> 'whatsapp' OR d.ctwa_clid IS NOT NULL)"
        " THEN 'pending' ELSE 'skipped' END, CASE WHEN s.enabled IS NOT TRUE THEN 'CAPI disabled'"
        " WHEN d.channel = 'whatsapp' AND d.ctwa_clid IS NULL THEN 'no ctwa_clid' END"
        " FROM wa_dialogs d LEFT JOIN capi_settings s ON s.id = 1 WHERE d.id = %(dialog)s"
        " ON CONFLICT (event_id) DO NOTHING RETURNING id, status",
        {"level": level, "default": DEFAULT_EVENTS[level], "eid": eid, "dialog": dialog_id},
    ).fetchone()
    return [CapiJob(tenant, int(row[0]), eid)] if row and row[1] == "pending" else []


def record_crm_event(conn: Conn, tenant: str, lead_id: int, leadgen_id: str) -> list[CapiJob]:
    """The CRM conversion of a new Lead Ads lead, when the tenant enables CRM events."""
    eid = event_id(tenant, f"leadgen:{leadgen_id}", CRM_LEVEL)
    row = conn.execute(
        "INSERT INTO capi_events_log (lead_id, level, event_name, event_id, status)"
        " SELECT %s, %s, coalesce(s.crm_event_name, %s), %s, 'pending' FROM capi_settings s"
        " WHERE s.id = 1 AND s.enabled AND s.crm_enabled ON CONFLICT (event_id) DO NOTHING RETURNING id",
        (lead_id, CRM_LEVEL, DEFAULT_EVENTS[CRM_LEVEL], eid),
    ).fetchone()
    return [CapiJob(tenant, int(row[0]), eid)] if row else []


def enqueue(jobs: Sequence[CapiJob]) -> None:
    """Put committed milestones on the capi queue (call after the transaction that recorded them commits)."""
    if jobs:
        ports.queues().send(QUEUE, [job.message() for job in jobs])


def requeue_stale(conn: Conn, tenant: str) -> list[CapiJob]:
    """Pending events nobody is working on and older than STALE_AFTER_S (lost between commit and enqueue): the
    jobs to enqueue again. For the tenant's scheduled jobs; the sender's lease makes a double send harmless."""
    rows = conn.execute(
        "SELECT id, event_id FROM capi_events_log WHERE status = 'pending' AND created_at < now() - %s * interval '1 s'"
        " AND (claimed_until IS NULL OR claimed_until < now()) ORDER BY id LIMIT 1000",
        (STALE_AFTER_S,),
    ).fetchall()
    return [CapiJob(tenant, int(log_id), eid) for log_id, eid in rows]
