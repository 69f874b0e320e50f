"""Creatives from the blob store to Meta: an image becomes an ad image (its hash), a video goes through Graph's
resumable upload (start, transfer chunks at the offsets Graph asks for, finish). The `creatives` row keeps the hash
or video id, and the upload is audited.

facebook-business posts videos to a hard-coded https://graph-video.facebook.com; we send the same three phases
through the SDK's own `api.call(..., url_override=...)`, aimed at Graph's video host in production and at
`CLAWGATE_GRAPH_URL` wherever that is overridden (the fake Graph of tests and `clawgate dev --offline`)."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

from clawgate.db import tenant_tx
from clawgate.meta.data import creatives
from clawgate.meta.marketing.audit import Actor, record
from clawgate.meta.marketing.calls import gate_of, graph_call, marketing_api
from clawgate.meta.marketing.context import AdsContext
from clawgate.meta.marketing.objects import WriteRefused
from clawgate.settings import get_settings

if TYPE_CHECKING:
    from facebook_business.api import FacebookAdsApi

GRAPH_HOST = "https://graph.facebook.com"
VIDEO_HOST = "https://graph-video.facebook.com"


def video_base_url() -> str:
    graph = get_settings().graph_url.rstrip("/")
    return VIDEO_HOST if graph == GRAPH_HOST else graph


def upload_video(api: FacebookAdsApi, account_id: str, data: bytes, name: str) -> str:
    path = (account_id, "advideos")

    def post(params: dict[str, Any], files: dict[str, Any] | None = None) -> dict[str, Any]:
        gate_of(api).before_call()
        answer = api.call("POST", path, params=params, files=files, url_override=video_base_url())
        body: dict[str, Any] = answer.json()
        return body

    with graph_call(api):
        start = post({"upload_phase": "start", "file_size": len(data)})
        session_id = start["upload_session_id"]
        begin, end = int(start["start_offset"]), int(start["end_offset"])
        while begin < end:
            chunk = {"video_file_chunk": (name, data[begin:end], "application/octet-stream")}
            answer = post({"upload_phase": "transfer", "upload_session_id": session_id, "start_offset": begin}, chunk)
            begin, end = int(answer["start_offset"]), int(answer["end_offset"])
        post({"upload_phase": "finish", "upload_session_id": session_id, "title": name})
    return str(start["video_id"])


def upload_image(api: FacebookAdsApi, account_id: str, data: bytes, name: str) -> str:
    from facebook_business.adobjects.adaccount import AdAccount

    with graph_call(api):
        image = AdAccount(account_id, api=api).create_ad_image(
            params={"bytes": base64.b64encode(data).decode(), "name": name}
        )
    return str(image["hash"])


def upload_creative(ctx: AdsContext, actor: Actor, creative_id: int, reason: str) -> dict[str, Any]:
    from clawgate.core.blobs import ForeignBlobError, read_tenant_blob

    with tenant_tx(ctx.slug, "ro") as conn:
        creative = creatives.file_of(conn, creative_id)
    if creative is None:
        raise WriteRefused(f"there is no creative {creative_id}")
    if creative.meta_image_hash or creative.meta_video_id:
        return {"creative_id": creative_id, "image_hash": creative.meta_image_hash,
                "video_id": creative.meta_video_id, "already_uploaded": True}  # fmt: skip
    if not creative.blob_key:
        raise WriteRefused(f"creative {creative_id} has no uploaded file")
    is_video = creative.kind == "video" or str(creative.content_type or "").startswith("video/")
    try:
        data = read_tenant_blob(ctx.slug, creative.blob_key)
    except ForeignBlobError as error:
        raise WriteRefused(str(error)) from None
    api = marketing_api(ctx)
    image_hash, video_id = None, None
    if is_video:
        video_id = upload_video(api, ctx.ad_account_id, data, creative.name)
    else:
        image_hash = upload_image(api, ctx.ad_account_id, data, creative.name)
    with tenant_tx(ctx.slug) as conn:
        creatives.mark_uploaded(conn, creative_id, "video" if is_video else "image", len(data), image_hash, video_id)
        result = {"creative_id": creative_id, "image_hash": image_hash, "video_id": video_id, "bytes": len(data)}
        record(conn, actor, "creative.upload", str(creative_id), reason, result)
    return result


VIDEO_READY_WAIT_S = 60.0
VIDEO_POLL_S = 3.0


def video_thumbnail(ctx: AdsContext, video_id: str, wait_s: float = VIDEO_READY_WAIT_S) -> dict[str, Any]:
    """A processed video's preferred thumbnail as `{"image_url": …}` (video ads need one). Waits for Meta's
    processing up to `wait_s`; a video still processing, or failed, is refused with what to do."""
    from facebook_business.adobjects.advideo import AdVideo

    api = marketing_api(ctx)
    deadline = time.monotonic() + wait_s
    while True:
        with graph_call(api):
            status = AdVideo(video_id, api=api).api_get(fields=["status"]).get("status") or {}
        state = str(status.get("video_status") or "")
        if state == "ready":
            break
        if state == "error":
            raise WriteRefused(f"Meta could not process video {video_id}; upload it again")
        if time.monotonic() + VIDEO_POLL_S > deadline:
            raise WriteRefused(f"video {video_id} is still processing ({status.get('processing_progress', '?')}%);"
                               " try again in a few minutes")  # fmt: skip
        time.sleep(VIDEO_POLL_S)
    with graph_call(api):
        found = AdVideo(video_id, api=api).get_thumbnails(fields=["uri", "is_preferred"])
        thumbnails = [thumbnail.export_all_data() for thumbnail in found]
    chosen = next((t for t in thumbnails if t.get("is_preferred")), thumbnails[0] if thumbnails else None)
    if not chosen or not chosen.get("uri"):
        raise WriteRefused(f"video {video_id} has no thumbnail yet; pass thumbnail_hash (an uploaded image)")
    return {"image_url": str(chosen["uri"])}
