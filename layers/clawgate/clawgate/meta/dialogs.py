"""Dialogs (`wa_dialogs`): one row per (account, user) on WhatsApp (phone_number_id, BSUID), Messenger (Page, PSID)
and Instagram (professional account, IGSID), with counters, qualification and the ad referral of the message that
brought the person in (the first referral wins, as one block). An ad's referral without a message (Messenger's
`referral` event) ties the dialog to the ad but counts no message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from clawgate.core import events
from clawgate.core.channels import InboundMessage
from clawgate.db import Conn, tenant_tx

DIALOG_CHANNELS = ("whatsapp", "messenger", "instagram")
QUALIFICATIONS = ("new", "interested", "scheduled", "not_interested")
# The Conversions API levels a qualification reaches: a scheduled dialog is a qualified one too.
QUALIFICATION_LEVELS: dict[str, tuple[int, ...]] = {"interested": (2,), "scheduled": (2, 3)}
REFERRAL_COLUMNS = ("ad_id", "ctwa_clid", "source_url", "source_type", "headline", "body", "media_type",
                    "creative_id", "direction_id", "referral")  # fmt: skip
_FIRST_REFERRAL_WINS = ", ".join(
    f"{c} = CASE WHEN wa_dialogs.referral IS NULL THEN EXCLUDED.{c} ELSE wa_dialogs.{c} END" for c in REFERRAL_COLUMNS
)
DEFAULT_THRESHOLD = 3


@dataclass(frozen=True)
class Dialog:
    id: int
    inserted: bool  # this message opened the dialog
    ad_id: str | None
    ctwa_clid: str | None
    capi_msg_count: int
    l1_due: bool  # capi_msg_count reached the tenant's threshold and level 1 is not recorded yet


def ad_id_of(referral: dict[str, object]) -> str | None:
    """WhatsApp: `source_id` is the ad id when the referral comes from an ad (a post's referral carries the post id).
    Messenger and Instagram: `ad_id` when `source` is `ADS` (an m.me link or a shop has no ad)."""
    if "source" in referral:
        ad_id = referral.get("ad_id")
        return str(ad_id) if ad_id and referral.get("source") == "ADS" else None
    source_id = referral.get("source_id")
    return str(source_id) if source_id and referral.get("source_type", "ad") == "ad" else None


def referral_fields(referral: dict[str, Any]) -> dict[str, Any]:
    """The dialog's columns from a referral of either shape (Messenger's ad data is in `ads_context_data`)."""
    found = referral.get("ads_context_data")
    context: dict[str, Any] = found if isinstance(found, dict) else {}
    media = "video" if context.get("video_url") else "image" if context.get("photo_url") else None
    source_type = referral.get("source_type") or (str(referral["source"]).lower() if referral.get("source") else None)
    return {"clid": referral.get("ctwa_clid"), "url": referral.get("source_url") or context.get("photo_url"),
            "type": "ad" if source_type == "ads" else source_type,
            "headline": referral.get("headline") or context.get("ad_title"), "body": referral.get("body"),
            "media": referral.get("media_type") or media}  # fmt: skip


def record_inbound(conn: Conn, message: InboundMessage) -> Dialog:
    """Upsert the dialog of an inbound message: counters, and the referral resolved through ad_creative_mapping."""
    referral = message.referral or {}
    ad_id = ad_id_of(referral)
    row = conn.execute(
        "INSERT INTO wa_dialogs (channel, phone_number_id, user_id, wa_id, profile_name, last_inbound_at,"
        " messages_in, capi_msg_count, ad_id, ctwa_clid, source_url, source_type, headline, body, media_type,"
        " creative_id, direction_id, referral)"
        " VALUES (%(channel)s, %(account)s, %(peer)s, %(wa_id)s, %(name)s, now(), %(n)s, %(n)s, %(ad_id)s, %(clid)s,"
        " %(url)s, %(type)s, %(headline)s, %(body)s, %(media)s,"
        " (SELECT creative_id FROM ad_creative_mapping WHERE ad_id = %(ad_id)s),"
        " (SELECT direction_id FROM ad_creative_mapping WHERE ad_id = %(ad_id)s), %(referral)s)"
        " ON CONFLICT (phone_number_id, user_id) DO UPDATE SET"
        " wa_id = coalesce(EXCLUDED.wa_id, wa_dialogs.wa_id),"
        " profile_name = coalesce(EXCLUDED.profile_name, wa_dialogs.profile_name),"
        " last_message_at = now(), last_inbound_at = now(), updated_at = now(),"
        " messages_in = wa_dialogs.messages_in + %(n)s, capi_msg_count = wa_dialogs.capi_msg_count + %(n)s, "
        + _FIRST_REFERRAL_WINS
        + " RETURNING id, xmax = 0, ad_id, ctwa_clid, capi_msg_count,"
        " capi_msg_count >= coalesce((SELECT threshold FROM capi_settings WHERE id = 1), %(threshold)s)"
        " AND NOT EXISTS (SELECT 1 FROM capi_events_log l WHERE l.dialog_id = wa_dialogs.id AND l.level = 1)",
        {"channel": message.channel, "account": message.account_id, "peer": message.peer_id, "wa_id": message.wa_id,
         "name": message.sender_name, "ad_id": ad_id, **referral_fields(referral),
         "referral": Jsonb(referral) if referral else None, "threshold": DEFAULT_THRESHOLD,
         "n": 0 if message.kind == "event" else 1},
    ).fetchone()  # fmt: skip
    assert row is not None
    return Dialog(int(row[0]), bool(row[1]), row[2], row[3], int(row[4]), bool(row[5]))


def record_outbound(conn: Conn, phone_number_id: str, user_id: str, count: int) -> None:
    conn.execute(
        "UPDATE wa_dialogs SET messages_out = messages_out + %s, last_message_at = now(), updated_at = now()"
        " WHERE phone_number_id = %s AND user_id = %s",
        (count, phone_number_id, user_id),
    )


def update_qualification(
    tenant: str, phone_number_id: str, user_id: str, qualification: str, summary: str | None, channel: str = "whatsapp"
) -> str:
    """Record the qualification; `interested` and `scheduled` reach Conversions API levels 2 and 3, recorded in the
    same transaction (`MilestoneReached`) and sent after it commits."""
    if qualification not in QUALIFICATIONS:
        raise ValueError(f"qualification must be one of {QUALIFICATIONS}")
    with tenant_tx(tenant) as conn:
        row = conn.execute(
            "INSERT INTO wa_dialogs (channel, phone_number_id, user_id, qualification, summary)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (phone_number_id, user_id) DO UPDATE SET qualification = EXCLUDED.qualification,"
            " summary = coalesce(EXCLUDED.summary, wa_dialogs.summary), updated_at = now() RETURNING id",
            (channel, phone_number_id, user_id, qualification, summary),
        ).fetchone()
        assert row is not None
        for level in QUALIFICATION_LEVELS.get(qualification, ()):
            events.publish(conn, events.MilestoneReached(tenant, int(row[0]), level))
    return f"dialog {row[0]} is now {qualification}"
