"""A customer's media, served to the operator: the blob of a stored inbound message's attachment, found through the
row (never through a key the caller names) and read under the tenant's own prefix. The file name and mime type came
from the customer, so neither reaches a header unescaped: raster images, audio and video are shown inline with their
own type; anything else (HTML, SVG, XML, scripts, documents) is a download, and every response says `nosniff` and
sandboxes itself should a browser open it anyway.

In AWS the bytes do not pass through the API: after the same checks, the route answers with a presigned S3 URL of a
minute, signed with the same Content-Type and Content-Disposition (S3 serves them from its own origin, never ours;
it cannot add `nosniff` or the sandbox, which is why the type is never an active one)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from clawgate.core.blobs import ForeignBlobError, blob_store, tenant_key
from clawgate.core.channels import MediaRef
from clawgate.db import tenant_tx
from clawgate.gateway.data.inbox import stored_media

INLINE = re.compile(r"(image/(png|jpeg|gif|webp)|audio/[a-z0-9.+-]{1,40}|video/[a-z0-9.+-]{1,40})")
MIME = re.compile(r"[a-z]{1,20}/[a-z0-9.+-]{1,80}")
ACTIVE = re.compile(r"html|xml|svg|javascript|ecmascript|^text/|multipart/|clawgate")
DEFAULT_NAMES = {"image": "image", "video": "video", "audio": "audio", "voice": "voice-note", "sticker": "sticker"}
LINK_TTL_S = 60  # the web UI reads the URL at once; a leaked one is dead a minute later
# What the web UI asks for (`Accept`) to get the presigned URL as JSON instead of a redirect: a browser's fetch()
# cannot follow a cross-origin redirect with the web UI's Origin (the next hop says `Origin: null`), so it fetches
# the URL itself. Never the type of a served file (ACTIVE), so the UI cannot take a customer's file for a link.
LINK_TYPE = "application/vnd.clawgate.media-link+json"


@dataclass(frozen=True)
class MediaFile:
    """The attachment's safe response headers, and either its bytes (local store) or a presigned URL (S3)."""

    headers: dict[str, str]
    data: bytes = b""
    url: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers["Content-Type"]


def media_path(tenant: str, conversation_id: int, event_id: int, index: int) -> str:
    return f"/api/v1/tenants/{tenant}/conversations/{conversation_id}/messages/{event_id}/media/{index}"


def with_media_urls(tenant: str, conversation_id: int, message_id: str, media: list[dict[str, Any]] | None) -> list[
        dict[str, Any]]:  # fmt: skip
    """A customer's stored attachment gets the operator API path that serves it (the web UI fetches it with the
    token); one not stored has none."""
    event_id = int(message_id.removeprefix("in:")) if message_id.startswith("in:") else 0
    return [{**m, "url": media_path(tenant, conversation_id, event_id, n)} if event_id and m.get("blob_key") else m
            for n, m in enumerate(media or [])]  # fmt: skip


def media_file(tenant: str, conversation_id: int, event_id: int, index: int) -> MediaFile:
    """The attachment's safe headers with its bytes or a presigned URL; LookupError when there is no such stored
    media, or when the row names a blob outside the tenant's prefix."""
    with tenant_tx(tenant, "ro") as conn:
        stored = stored_media(conn, conversation_id, event_id, index)
    media = MediaRef.model_validate(stored) if stored else None
    if media is None or media.blob_key is None:
        raise LookupError(f"no stored media {index} on message {event_id}")
    safe = headers(media)
    store = blob_store()
    try:
        key = tenant_key(tenant, media.blob_key)
        url = store.presigned_get(key, safe["Content-Type"], safe["Content-Disposition"], LINK_TTL_S)
        return MediaFile(safe, url=url) if url else MediaFile(safe, data=store.get(key))
    except (ForeignBlobError, FileNotFoundError, ValueError):
        raise LookupError(f"no stored media {index} on message {event_id}") from None


def headers(media: MediaRef) -> dict[str, str]:
    """The one place a customer's mime type and file name become response headers: the local route sends these, and
    S3 is told to answer a presigned URL with the same Content-Type and Content-Disposition."""
    mime = (media.mime_type or "").split(";")[0].strip().lower()
    inline = bool(INLINE.fullmatch(mime))
    if not inline and (not MIME.fullmatch(mime) or ACTIVE.search(mime)):
        mime = "application/octet-stream"
    name = media.filename or DEFAULT_NAMES.get(media.kind, "file")
    return {
        "Content-Type": mime,
        "Content-Disposition": disposition("inline" if inline else "attachment", name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=300",
    }


def disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback with nothing that could end the parameter, and the UTF-8 name percent-encoded."""
    name = unicodedata.normalize("NFC", filename)[:200]
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", unicodedata.normalize("NFKD", name)).strip(" .") or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
