"""Dialogs: a person's conversation with a WhatsApp number, a Page on Messenger or an Instagram account, as Meta's
attribution sees it (the rows are `meta.data.dialogs`). Here: reading the ad referral a message carries, in either
of its shapes, and the qualification the agent records, which reaches Conversions API levels."""

from __future__ import annotations

from typing import Any

from clawgate.core import events
from clawgate.core.channels import InboundMessage
from clawgate.db import Conn, tenant_tx
from clawgate.meta.data import dialogs
from clawgate.meta.data.dialogs import AdReferral, Dialog

DIALOG_CHANNELS = ("whatsapp", "messenger", "instagram")
QUALIFICATIONS = ("new", "interested", "scheduled", "not_interested")
# The Conversions API levels a qualification reaches: a scheduled dialog is a qualified one too.
QUALIFICATION_LEVELS: dict[str, tuple[int, ...]] = {"interested": (2,), "scheduled": (2, 3)}


def ad_id_of(referral: dict[str, object]) -> str | None:
    """WhatsApp: `source_id` is the ad id when the referral comes from an ad (a post's referral carries the post id).
    Messenger and Instagram: `ad_id` when `source` is `ADS` (an m.me link or a shop has no ad)."""
    if "source" in referral:
        ad_id = referral.get("ad_id")
        return str(ad_id) if ad_id and referral.get("source") == "ADS" else None
    source_id = referral.get("source_id")
    return str(source_id) if source_id and referral.get("source_type", "ad") == "ad" else None


def ad_referral(referral: dict[str, Any]) -> AdReferral:
    """The dialog's columns from a referral of either shape (Messenger's ad data is in `ads_context_data`)."""
    found = referral.get("ads_context_data")
    context: dict[str, Any] = found if isinstance(found, dict) else {}
    media = "video" if context.get("video_url") else "image" if context.get("photo_url") else None
    source_type = referral.get("source_type") or (str(referral["source"]).lower() if referral.get("source") else None)
    return AdReferral(raw=referral, ad_id=ad_id_of(referral), ctwa_clid=referral.get("ctwa_clid"),
                      source_url=referral.get("source_url") or context.get("photo_url"),
                      source_type="ad" if source_type == "ads" else source_type,
                      headline=referral.get("headline") or context.get("ad_title"), body=referral.get("body"),
                      media_type=referral.get("media_type") or media)  # fmt: skip


def record_inbound(conn: Conn, message: InboundMessage) -> Dialog:
    """The dialog of an inbound message, counted, with the ad that brought the person in (the first one wins)."""
    return dialogs.record_inbound(conn, message, ad_referral(message.referral) if message.referral else None)


def update_qualification(
    tenant: str, phone_number_id: str, user_id: str, qualification: str, summary: str | None, channel: str = "whatsapp"
) -> str:
    """Record the qualification; `interested` and `scheduled` reach Conversions API levels 2 and 3, recorded in the
    same transaction (`MilestoneReached`) and sent after it commits."""
    if qualification not in QUALIFICATIONS:
        raise ValueError(f"qualification must be one of {QUALIFICATIONS}")
    with tenant_tx(tenant) as conn:
        dialog_id = dialogs.set_qualification(conn, channel, phone_number_id, user_id, qualification, summary)
        for level in QUALIFICATION_LEVELS.get(qualification, ()):
            events.publish(conn, events.MilestoneReached(tenant, dialog_id, level))
    return f"dialog {dialog_id} is now {qualification}"
