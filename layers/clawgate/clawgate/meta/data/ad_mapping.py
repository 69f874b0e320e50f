"""The ad mapping aggregate (`ad_creative_mapping`): Meta ad id → our creative, its direction, ad set and campaign,
the lookup attribution resolves referrals and Lead Ads leads through. Mapping sync fills it from the ad account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clawgate.db import Conn


@dataclass(frozen=True)
class MappedAd:
    ad_id: str
    meta_creative_id: str | None
    adset_id: str | None
    campaign_id: str | None
    ad_name: str | None


def upsert(conn: Conn, ads: Sequence[MappedAd]) -> None:
    """Direction from the ad set's direction; a direction set by hand is kept when the ad set has none."""
    conn.execute(
        "INSERT INTO ad_creative_mapping (ad_id, creative_id, meta_creative_id, direction_id, adset_id, campaign_id,"
        " ad_name, synced_at)"
        " SELECT a.ad_id, c.id, a.meta_creative_id, da.direction_id, a.adset_id, a.campaign_id, a.ad_name, now()"
        " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
        " AS a(ad_id, meta_creative_id, adset_id, campaign_id, ad_name)"
        " LEFT JOIN creatives c ON c.meta_creative_id = a.meta_creative_id"
        " LEFT JOIN direction_adsets da ON da.adset_id = a.adset_id"
        " ON CONFLICT (ad_id) DO UPDATE SET creative_id = EXCLUDED.creative_id,"
        " meta_creative_id = EXCLUDED.meta_creative_id,"
        " direction_id = coalesce(EXCLUDED.direction_id, ad_creative_mapping.direction_id),"
        " adset_id = EXCLUDED.adset_id, campaign_id = EXCLUDED.campaign_id, ad_name = EXCLUDED.ad_name,"
        " synced_at = now()",
        ([a.ad_id for a in ads], [a.meta_creative_id for a in ads], [a.adset_id for a in ads],
         [a.campaign_id for a in ads], [a.ad_name for a in ads]),
    )  # fmt: skip
