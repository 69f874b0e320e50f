"""The creatives aggregate (`creatives`): the tenant's creative assets, an uploaded file (`blob_key`) and/or a Meta
ad creative (`meta_creative_id`), with the image hash or video id Meta gave the file and the direction it serves.
Mapping sync keeps the Meta side current; the ads tools upload files and link the creatives they create."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields

from psycopg.rows import class_row

from clawgate.db import Conn


@dataclass(frozen=True)
class MetaCreative:
    """A creative as the ad account has it (mapping sync)."""

    meta_creative_id: str
    kind: str
    title: str | None
    body: str | None
    media_url: str | None
    meta_image_hash: str | None
    meta_video_id: str | None


@dataclass(frozen=True)
class CreativeFile:
    """What uploading a creative's file to Meta needs, and what an earlier upload left."""

    kind: str
    blob_key: str | None
    content_type: str | None
    name: str
    meta_image_hash: str | None
    meta_video_id: str | None


def upsert_from_meta(conn: Conn, creatives: Sequence[MetaCreative]) -> None:
    """One statement for the lot; a row that did not change is not touched."""
    values = [astuple(creative) for creative in creatives]
    columns = [[value[i] for value in values] for i in range(len(fields(MetaCreative)))]
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


def inherit_directions(conn: Conn) -> None:
    """A creative without a direction takes the direction of an ad that uses it."""
    conn.execute(
        "UPDATE creatives c SET direction_id = m.direction_id, updated_at = now() FROM ad_creative_mapping m"
        " WHERE m.creative_id = c.id AND c.direction_id IS NULL AND m.direction_id IS NOT NULL"
    )


def file_of(conn: Conn, creative_id: int) -> CreativeFile | None:
    return (
        conn.cursor(row_factory=class_row(CreativeFile))
        .execute(
            "SELECT kind, blob_key, content_type, coalesce(title, 'creative ' || id) AS name, meta_image_hash,"
            " meta_video_id FROM creatives WHERE id = %s",
            (creative_id,),
        )
        .fetchone()
    )


def mark_uploaded(
    conn: Conn, creative_id: int, kind: str, size_bytes: int, image_hash: str | None, video_id: str | None
) -> None:
    conn.execute(
        "UPDATE creatives SET meta_image_hash = %s, meta_video_id = %s, kind = %s, size_bytes = %s,"
        " status = 'uploaded', updated_at = now() WHERE id = %s",
        (image_hash, video_id, kind, size_bytes, creative_id),
    )


def link_meta_creative(conn: Conn, creative_id: int, meta_creative_id: str, body: str, title: str | None) -> None:
    """Our creative became this Meta ad creative (its text with it; a title only when one is given)."""
    conn.execute(
        "UPDATE creatives SET meta_creative_id = %s, body = %s, title = coalesce(%s, title), updated_at = now()"
        " WHERE id = %s",
        (meta_creative_id, body, title, creative_id),
    )
