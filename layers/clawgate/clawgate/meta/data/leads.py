"""The leads aggregate: a tenant's `leads` rows, one per source and dialog (`ctwa`, `ctm`, `ctd`, `organic`) or
per Lead Ads `leadgen_id` (`lead_form`), each resolved to its ad set, campaign, creative and direction through
`ad_creative_mapping`. Every insert is idempotent (unique indexes): a replay changes nothing."""

from __future__ import annotations

from typing import Any, Literal

from psycopg.rows import scalar_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn

DialogLeadSource = Literal["ctwa", "ctm", "ctd", "organic"]  # click-to-WhatsApp, -Messenger, -Direct; organic


def insert_dialog_lead(conn: Conn, dialog_id: int, source: DialogLeadSource) -> int | None:
    """The dialog's lead of this source, once; its id when new."""
    leads = conn.cursor(row_factory=scalar_row)
    return leads.execute(
        "INSERT INTO leads (source, dialog_id, wa_id, user_id, ad_id, adset_id, campaign_id, creative_id,"
        " direction_id, ctwa_clid, phone, name)"
        " SELECT %s, d.id, d.wa_id, d.user_id, d.ad_id, m.adset_id, m.campaign_id, d.creative_id, d.direction_id,"
        " d.ctwa_clid, d.wa_id, d.profile_name FROM wa_dialogs d LEFT JOIN ad_creative_mapping m ON m.ad_id = d.ad_id"
        " WHERE d.id = %s ON CONFLICT DO NOTHING RETURNING id",
        (source, dialog_id),
    ).fetchone()


def leadgen_stored(conn: Conn, leadgen_id: str) -> bool:
    return conn.execute("SELECT 1 FROM leads WHERE leadgen_id = %s", (leadgen_id,)).fetchone() is not None


def insert_form_lead(conn: Conn, values: dict[str, Any]) -> int | None:
    """A Lead Ads lead (`values`: leadgen, form, page, ad, adset, campaign, name, phone, email, fields); its id when
    new, None when that leadgen_id is stored already."""
    leads = conn.cursor(row_factory=scalar_row)
    return leads.execute(
        "INSERT INTO leads (source, leadgen_id, form_id, page_id, ad_id, adset_id, campaign_id, creative_id,"
        " direction_id, name, phone, email, field_data)"
        " SELECT 'lead_form', %(leadgen)s, %(form)s, %(page)s, %(ad)s, coalesce(%(adset)s, m.adset_id),"
        " coalesce(%(campaign)s, m.campaign_id), m.creative_id, m.direction_id, %(name)s, %(phone)s, %(email)s,"
        " %(fields)s FROM (SELECT 1) AS one LEFT JOIN ad_creative_mapping m ON m.ad_id = %(ad)s"
        " ON CONFLICT (leadgen_id) DO NOTHING RETURNING id",
        {**values, "fields": Jsonb(values["fields"])},
    ).fetchone()


def backfill_creatives(conn: Conn) -> int:
    """Leads whose ad was mapped after they arrived get its creative, direction, ad set and campaign now; how many."""
    return conn.execute(
        "UPDATE leads l SET creative_id = m.creative_id, direction_id = m.direction_id,"
        " adset_id = coalesce(l.adset_id, m.adset_id), campaign_id = coalesce(l.campaign_id, m.campaign_id),"
        " updated_at = now() FROM ad_creative_mapping m"
        " WHERE m.ad_id = l.ad_id AND l.creative_id IS NULL AND m.creative_id IS NOT NULL"
    ).rowcount
