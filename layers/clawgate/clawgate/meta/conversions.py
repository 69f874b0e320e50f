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
from clawgate.meta.data import conversions

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
    log_id = conversions.insert_dialog_milestone(conn, dialog_id, level, eid, DEFAULT_EVENTS[level])
    return [CapiJob(tenant, log_id, eid)] if log_id is not None else []


def record_crm_event(conn: Conn, tenant: str, lead_id: int, leadgen_id: str) -> list[CapiJob]:
    """The CRM conversion of a new Lead Ads lead, when the tenant enables CRM events."""
    eid = event_id(tenant, f"leadgen:{leadgen_id}", CRM_LEVEL)
    log_id = conversions.insert_crm_event(conn, lead_id, CRM_LEVEL, eid, DEFAULT_EVENTS[CRM_LEVEL])
    return [CapiJob(tenant, log_id, eid)] if log_id is not None else []


def enqueue(jobs: Sequence[CapiJob]) -> None:
    """Put committed milestones on the capi queue (call after the transaction that recorded them commits)."""
    if jobs:
        ports.queues().send(QUEUE, [job.message() for job in jobs])


def requeue_stale(conn: Conn, tenant: str) -> list[CapiJob]:
    """Pending events nobody is working on and older than STALE_AFTER_S (lost between commit and enqueue): the
    jobs to enqueue again. For the tenant's scheduled jobs; the sender's lease makes a double send harmless."""
    return [CapiJob(tenant, event.id, event.event_id) for event in conversions.stale_pending(conn, STALE_AFTER_S)]
