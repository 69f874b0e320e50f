"""Mapping sync: the ad account's ads and their creatives, read through facebook-business, upserted into `creatives`
and `ad_creative_mapping` (direction from `direction_adsets`), so CTWA and Lead Ads attribution works without
hand-entered rows. Dialogs and leads that arrived before their ad was mapped get their creative and direction then.

`clawgate meta sync-mapping --tenant T` runs it; the tenant's scheduled jobs call `sync_mapping(slug)` too."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from clawgate.db import tenant_tx
from clawgate.meta import graph
from clawgate.meta.data import ad_mapping, creatives, dialogs, leads
from clawgate.meta.data.ad_mapping import MappedAd
from clawgate.meta.data.creatives import MetaCreative
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

    def row(self) -> MetaCreative:
        media_url = self.image_url or self.thumbnail_url
        return MetaCreative(self.id, self.kind, self.title or self.name, self.body, media_url, self.image_hash,
                            self.video_id)  # fmt: skip


class RemoteAd(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str
    name: str | None = None
    adset_id: str | None = None
    campaign_id: str | None = None
    creative: RemoteCreative | None = None

    def row(self) -> MappedAd:
        creative_id = self.creative.id if self.creative else None
        return MappedAd(self.id, creative_id, self.adset_id, self.campaign_id, self.name)


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
    remote = {ad.creative.id: ad.creative for ad in ads if ad.creative}
    with tenant_tx(slug) as conn:
        creatives.upsert_from_meta(conn, [creative.row() for creative in remote.values()])
        ad_mapping.upsert(conn, [ad.row() for ad in ads])
        creatives.inherit_directions(conn)
        backfilled = dialogs.backfill_creatives(conn) + leads.backfill_creatives(conn)
    logger.info("ad mapping synced", extra={"ads": len(ads), "creatives": len(remote), "backfilled": backfilled})
    return SyncResult(len(ads), len(remote), backfilled)
