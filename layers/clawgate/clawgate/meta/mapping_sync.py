"""Mapping sync: the ad account's ads and their creatives, read through facebook-business, upserted into `creatives`
and `ad_creative_mapping` (direction from `direction_adsets`), so CTWA and Lead Ads attribution works without
hand-entered rows. Dialogs and leads that arrived before their ad was mapped get their creative and direction then.

`clawgate meta sync-mapping --tenant T` runs it; the tenant's scheduled jobs call `sync_mapping(slug)` too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from clawgate.db import Conn, tenant_tx
from clawgate.meta import graph
from clawgate.observability import bind, logger

CREATIVE_FIELDS = "id,name,title,body,object_type,image_url,thumbnail_url,image_hash,video_id"
AD_FIELDS = ["id", "name", "adset_id", "campaign_id", f"creative{{{CREATIVE_FIELDS}}}"]
PAGE_SIZE = 200
KINDS = {"PHOTO": "image", "IMAGE": "image", "VIDEO": "video"}


class RemoteCreative(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str
    name: str | None = None
    title: str | None = None
    body: str | None = None
    object_type: str | None = None
    image_url: str | None = None
    thumbnail_url: str | None = None
    image_hash: str | None = None
    video_id: str | None = None

    @property
    def kind(self) -> str:
        if self.video_id:
            return "video"
        return KINDS.get((self.object_type or "").upper(), "image" if self.image_hash or self.image_url else "other")


class RemoteAd(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str
    name: str | None = None
    adset_id: str | None = None
    campaign_id: str | None = None
    creative: RemoteCreative | None = None


@dataclass(frozen=True)
class SyncResult:
    ads: int
    creatives: int
    backfilled: int  # dialogs and leads that got their creative now


def sync_mapping(slug: str) -> SyncResult:
    from facebook_business.adobjects.adaccount import AdAccount

    bind(tenant=slug)
    from clawgate.meta.marketing.context import load_context

    context = load_context(slug)  # the ad account chosen during onboarding, else the tenant file's
    api = graph.tenant_api(context.tenant)
    # The `creative{...}` field expansion goes as a plain parameter: the SDK's field list would warn about it.
    params = {"fields": ",".join(AD_FIELDS), "limit": PAGE_SIZE}
    cursor = AdAccount(context.ad_account_id, api=api).get_ads(params=params)
    ads = [RemoteAd.model_validate(ad.export_all_data()) for ad in cursor]
    with tenant_tx(slug) as conn:
        creatives = upsert_creatives(conn, {ad.creative.id: ad.creative for ad in ads if ad.creative})
        upsert_mapping(conn, ads)
        backfilled = backfill(conn)
    logger.info("ad mapping synced", extra={"ads": len(ads), "creatives": creatives, "backfilled": backfilled})
    return SyncResult(len(ads), creatives, backfilled)


def upsert_creatives(conn: Conn, creatives: dict[str, RemoteCreative]) -> int:
    columns: list[list[Any]] = [[], [], [], [], [], [], []]
    for c in creatives.values():
        values = (c.id, c.kind, c.title or c.name, c.body, c.image_url or c.thumbnail_url, c.image_hash, c.video_id)
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    conn.execute(
        "INSERT INTO creatives (meta_creative_id, kind, title, body, media_url, meta_image_hash, meta_video_id)"
        " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
        " ON CONFLICT (meta_creative_id) DO UPDATE SET kind = EXCLUDED.kind, title = EXCLUDED.title,"
        " body = EXCLUDED.body, media_url = EXCLUDED.media_url, meta_image_hash = EXCLUDED.meta_image_hash,"
        " meta_video_id = EXCLUDED.meta_video_id, updated_at = now()"
        " WHERE (creatives.kind, creatives.title, creatives.body, creatives.media_url, creatives.meta_image_hash,"
        " creatives.meta_video_id) IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.title, EXCLUDED.body,"
        " EXCLUDED.media_url, EXCLUDED.meta_image_hash, EXCLUDED.meta_video_id)",
        columns,
    )
    return len(creatives)


def upsert_mapping(conn: Conn, ads: list[RemoteAd]) -> None:
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
        ([a.id for a in ads], [a.creative.id if a.creative else None for a in ads], [a.adset_id for a in ads],
         [a.campaign_id for a in ads], [a.name for a in ads]),
    )  # fmt: skip
    conn.execute(
        "UPDATE creatives c SET direction_id = m.direction_id, updated_at = now() FROM ad_creative_mapping m"
        " WHERE m.creative_id = c.id AND c.direction_id IS NULL AND m.direction_id IS NOT NULL"
    )


def backfill(conn: Conn) -> int:
    dialogs = conn.execute(
        "UPDATE wa_dialogs d SET creative_id = m.creative_id, direction_id = m.direction_id, updated_at = now()"
        " FROM ad_creative_mapping m WHERE m.ad_id = d.ad_id AND d.creative_id IS NULL AND m.creative_id IS NOT NULL"
    ).rowcount
    leads = conn.execute(
        "UPDATE leads l SET creative_id = m.creative_id, direction_id = m.direction_id,"
        " adset_id = coalesce(l.adset_id, m.adset_id), campaign_id = coalesce(l.campaign_id, m.campaign_id),"
        " updated_at = now() FROM ad_creative_mapping m"
        " WHERE m.ad_id = l.ad_id AND l.creative_id IS NULL AND m.creative_id IS NOT NULL"
    ).rowcount
    return dialogs + leads
