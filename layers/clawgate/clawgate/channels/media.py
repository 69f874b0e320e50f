"""Inbound media fetched into the blob store (`clawgate.core.blobs`) with a size limit: WhatsApp `GET /{media_id}`
then the short-lived URL with the bearer token; Telegram `getFile` then `/file/bot<token>/<file_path>` (20 MB at most
on the Bot API)."""

from __future__ import annotations

from typing import Any

from clawgate import secrets
from clawgate.core import transport
from clawgate.core.blobs import blob_store, media_key
from clawgate.core.channels import MediaError, MediaRef, MediaTooLargeError
from clawgate.observability import logger
from clawgate.settings import get_settings

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
TELEGRAM_MAX_BYTES = 20 * 1024 * 1024


def _download(url: str, headers: dict[str, str], max_bytes: int) -> bytes:
    import httpx

    chunks: list[bytes] = []
    size = 0
    try:
        with transport.client().stream("GET", url, headers=headers) as response:
            if response.status_code >= 400:
                raise MediaError(f"media download answered {response.status_code}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise MediaTooLargeError(f"media is {declared} bytes, the limit is {max_bytes}")
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise MediaTooLargeError(f"media exceeds the limit of {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as error:
        raise MediaError(f"media download failed: {type(error).__name__}") from None
    return b"".join(chunks)


def _whatsapp(account: dict[str, Any], media: MediaRef, max_bytes: int) -> tuple[bytes, str | None]:
    settings = get_settings()
    headers = {"Authorization": f"Bearer {secrets.resolve(str(account['access_token']))}"}
    url = f"{settings.graph_url.rstrip('/')}/{settings.graph_version}/{media.provider_media_id}"
    answer = transport.client().get(url, headers=headers)
    info = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
    if answer.status_code >= 400 or not info.get("url"):
        raise MediaError(f"Graph media lookup answered {answer.status_code}")
    if int(info.get("file_size") or 0) > max_bytes:
        raise MediaTooLargeError(f"media is {info['file_size']} bytes, the limit is {max_bytes}")
    return _download(str(info["url"]), headers, max_bytes), info.get("mime_type")


def _telegram(account: dict[str, Any], media: MediaRef, max_bytes: int) -> tuple[bytes, str | None]:
    from clawgate.channels.telegram_api import call, file_url

    token = secrets.resolve(str(account["bot_token"]))
    info = call(token, "getFile", {"file_id": media.provider_media_id})
    if int(info.get("file_size") or 0) > max_bytes:
        raise MediaTooLargeError(f"media is {info['file_size']} bytes, the limit is {max_bytes}")
    return _download(file_url(token, str(info["file_path"])), {}, max_bytes), media.mime_type


# Where Messenger and Instagram attachment URLs point (signed CDN URLs, no token needed): nothing else is fetched.
META_CDN_SUFFIXES = (".fbcdn.net", ".fbsbx.com", ".cdninstagram.com", ".facebook.com", ".instagram.com")


def meta_cdn_url_allowed(url: str) -> bool:
    """An https URL on Meta's CDN, or one under the configured Graph / Instagram API base (the local fakes)."""
    from urllib.parse import urlsplit

    settings = get_settings()
    if any(url.startswith(base.rstrip("/") + "/") for base in (settings.graph_url, settings.instagram_api_url)):
        return True
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(host.endswith(suffix) for suffix in META_CDN_SUFFIXES)


def _meta_cdn(account: dict[str, Any], media: MediaRef, max_bytes: int) -> tuple[bytes, str | None]:
    url = media.provider_media_id
    if not meta_cdn_url_allowed(url):
        raise MediaError("attachment URL is not on Meta's CDN; not fetched")
    return _download(url, {}, max_bytes), media.mime_type


def fetch_media(
    channel: str, account: dict[str, Any], media: MediaRef, *, tenant: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> MediaRef:
    """Download one inbound attachment into the blob store; the returned ref carries `blob_key` and the size.
    Raises MediaTooLargeError past `max_bytes` (checked on the declared size, then while streaming)."""
    import httpx

    from clawgate.channels.telegram_api import TelegramApiError

    fetchers = {"whatsapp": (_whatsapp, max_bytes), "telegram": (_telegram, min(max_bytes, TELEGRAM_MAX_BYTES)),
                "messenger": (_meta_cdn, max_bytes), "instagram": (_meta_cdn, max_bytes)}  # fmt: skip
    if channel not in fetchers:
        raise MediaError(f"no media fetching for channel {channel!r}")
    fetch, limit = fetchers[channel]
    try:
        data, mime_type = fetch(account, media, limit)
    except (httpx.HTTPError, TelegramApiError, ValueError, KeyError) as error:
        raise MediaError(f"{channel} media lookup failed: {type(error).__name__}") from None
    key = blob_store().put(media_key(tenant, channel, media.provider_media_id), data, mime_type or media.mime_type)
    logger.info("media stored", extra={"tenant": tenant, "channel": channel, "bytes": len(data)})
    return media.model_copy(
        update={"blob_key": key, "size_bytes": len(data), "mime_type": mime_type or media.mime_type}
    )
