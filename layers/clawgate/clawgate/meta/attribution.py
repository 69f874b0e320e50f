"""Ad attribution for click-to-message ads, run for every new WhatsApp, Messenger and Instagram message inside
Ingest's tenant transaction (it subscribes to `InboundStored`, see `meta.subscribers`):
the dialog upsert (ad id → creative and direction through ad_creative_mapping), the lead of an ad-started
conversation (once per dialog: `ctwa` on WhatsApp, `ctm` on Messenger, `ctd` on Instagram Direct), an `organic` lead
for a conversation that started without an ad when the account asks for them (`organic_leads: true` in the tenant
file), and the Conversions API level 1 milestone.

Database round trips per message: one (the dialog upsert, which also says whether level 1 is due), plus one for the
lead on a message that carries a referral (or opens an organic dialog), plus one the single time level 1 is reached.
"""

from __future__ import annotations

from typing import Any

from clawgate.core import events
from clawgate.core.channels import InboundMessage
from clawgate.db import Conn
from clawgate.meta.data import leads
from clawgate.meta.dialogs import record_inbound

AD_LEAD_SOURCES: dict[str, leads.DialogLeadSource] = {"whatsapp": "ctwa", "messenger": "ctm", "instagram": "ctd"}


def on_message(conn: Conn, tenant: str, account_config: dict[str, Any], message: InboundMessage) -> None:
    """Dialog, lead, and level 1 of the Conversions API (`MilestoneReached`) when the message reaches the threshold."""
    dialog = record_inbound(conn, message)
    if message.referral and dialog.ad_id:
        leads.insert_dialog_lead(conn, dialog.id, AD_LEAD_SOURCES[message.channel])
    elif dialog.inserted and not message.referral and account_config.get("organic_leads"):
        leads.insert_dialog_lead(conn, dialog.id, "organic")
    if dialog.l1_due:
        events.publish(conn, events.MilestoneReached(tenant, dialog.id, 1))
