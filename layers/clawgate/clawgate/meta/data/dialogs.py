"""The dialogs aggregate (`wa_dialogs`): one row per (account, user) on WhatsApp (phone_number_id, BSUID),
Messenger (Page, PSID) and Instagram (professional account, IGSID), with counters, qualification and the ad referral
of the message that brought the person in (the first referral wins, as one block). A referral without a message
(Messenger's `referral` event) ties the dialog to the ad but counts no message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.rows import class_row, scalar_row
from psycopg.types.json import Jsonb

from clawgate.core.channels import InboundMessage
from clawgate.db import Conn

REFERRAL_COLUMNS = ("ad_id", "ctwa_clid", "source_url", "source_type", "headline", "body", "media_type",
                    "creative_id", "direction_id", "referral")  # fmt: skip
_FIRST_REFERRAL_WINS = ", ".join(
    f"{c} = CASE WHEN wa_dialogs.referral IS NULL THEN EXCLUDED.{c} ELSE wa_dialogs.{c} END" for c in REFERRAL_COLUMNS
)
DEFAULT_THRESHOLD = 3  # messages before level 1 of the Conversions API, unless capi_settings says otherwise


@dataclass(frozen=True)
class Dialog:
    id: int
    inserted: bool  # this message opened the dialog
    ad_id: str | None
    ctwa_clid: str | None
    capi_msg_count: int
    l1_due: bool  # capi_msg_count reached the tenant's threshold and level 1 is not recorded yet


@dataclass(frozen=True)
class AdReferral:
    """The dialog's columns from the ad referral of a message (`raw` is kept as it came)."""

    raw: dict[str, Any]
    ad_id: str | None
    ctwa_clid: str | None
    source_url: str | None
    source_type: str | None
    headline: str | None
    body: str | None
    media_type: str | None


UPSERT_INBOUND = (
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
    + " RETURNING id, xmax = 0 AS inserted, ad_id, ctwa_clid, capi_msg_count,"
    " capi_msg_count >= coalesce((SELECT threshold FROM capi_settings WHERE id = 1), %(threshold)s)"
    " AND NOT EXISTS (SELECT 1 FROM capi_events_log l WHERE l.dialog_id = wa_dialogs.id AND l.level = 1) AS l1_due"
)


def record_inbound(conn: Conn, message: InboundMessage, referral: AdReferral | None) -> Dialog:
    """Upsert the dialog of an inbound message: counters (an `event` counts no message), and the referral resolved
    through ad_creative_mapping."""
    ref = referral or AdReferral({}, None, None, None, None, None, None, None)
    params = {"channel": message.channel, "account": message.account_id, "peer": message.peer_id,
              "wa_id": message.wa_id, "name": message.sender_name, "ad_id": ref.ad_id, "clid": ref.ctwa_clid,
              "url": ref.source_url, "type": ref.source_type, "headline": ref.headline, "body": ref.body,
              "media": ref.media_type, "referral": Jsonb(ref.raw) if ref.raw else None,
              "threshold": DEFAULT_THRESHOLD, "n": 0 if message.kind == "event" else 1}  # fmt: skip
    dialog = conn.cursor(row_factory=class_row(Dialog)).execute(UPSERT_INBOUND, params).fetchone()
    assert dialog is not None
    return dialog


def count_outbound(conn: Conn, phone_number_id: str, user_id: str, count: int) -> None:
    conn.execute(
        "UPDATE wa_dialogs SET messages_out = messages_out + %s, last_message_at = now(), updated_at = now()"
        " WHERE phone_number_id = %s AND user_id = %s",
        (count, phone_number_id, user_id),
    )


def set_qualification(
    conn: Conn, channel: str, phone_number_id: str, user_id: str, qualification: str, summary: str | None
) -> int:
    """The dialog's qualification (and summary, when given), the dialog created if need be; its id."""
    dialog_id = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO wa_dialogs (channel, phone_number_id, user_id, qualification, summary)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (phone_number_id, user_id) DO UPDATE SET qualification = EXCLUDED.qualification,"
            " summary = coalesce(EXCLUDED.summary, wa_dialogs.summary), updated_at = now() RETURNING id",
            (channel, phone_number_id, user_id, qualification, summary),
        )
        .fetchone()
    )
    assert dialog_id is not None
    return int(dialog_id)


def backfill_creatives(conn: Conn) -> int:
    """Dialogs whose ad was mapped after they began get its creative and direction now; how many."""
    return conn.execute(
        "UPDATE wa_dialogs d SET creative_id = m.creative_id, direction_id = m.direction_id, updated_at = now()"
        " FROM ad_creative_mapping m WHERE m.ad_id = d.ad_id AND d.creative_id IS NULL AND m.creative_id IS NOT NULL"
    ).rowcount
