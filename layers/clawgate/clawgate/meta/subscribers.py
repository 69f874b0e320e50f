"""What Meta does when the other domains report something (`clawgate.core.events`), all inside the reporting
transaction so that a retried message or reply changes nothing twice:

- a WhatsApp, Messenger or Instagram message stored for the first time → the dialog, its lead, level 1 of the
  Conversions API;
- a message sent on those channels → the dialog's outbound counter;
- a milestone reached → its `capi_events_log` row now, the queue message once the transaction has committed.
"""

from __future__ import annotations

from clawgate.core import events
from clawgate.db import Conn
from clawgate.meta import conversions
from clawgate.meta.attribution import on_message
from clawgate.meta.data import dialogs
from clawgate.meta.dialogs import DIALOG_CHANNELS


@events.subscribe(events.InboundStored, in_transaction=True)
def attribute(conn: Conn, event: events.InboundStored) -> None:
    if event.message.channel in DIALOG_CHANNELS:
        on_message(conn, event.tenant, event.account_config, event.message)


@events.subscribe(events.ReplySent, in_transaction=True)
def count_outbound(conn: Conn, event: events.ReplySent) -> None:
    if event.channel in DIALOG_CHANNELS:
        dialogs.count_outbound(conn, event.account_id or "", event.peer_id, 1)


@events.subscribe(events.MilestoneReached, in_transaction=True)
def record_milestone(conn: Conn, event: events.MilestoneReached) -> None:
    jobs = conversions.record_dialog_milestone(conn, event.tenant, event.dialog_id, event.level)
    if jobs:
        events.after_commit(lambda: conversions.enqueue(jobs))
