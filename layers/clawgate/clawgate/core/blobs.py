"""The blob store port: the S3 bucket `CLAWGATE_BLOB_BUCKET` in AWS, `<data_dir>/blobs` locally. Inbound media,
creatives uploaded by operators and report charts live here; rows hold the keys."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Protocol

from clawgate.settings import get_settings


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str | None = None) -> str: ...

    def get(self, key: str) -> bytes: ...


class LocalBlobs:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"blob key escapes the store: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str | None = None) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


class S3Blobs:
    def __init__(self, bucket: str) -> None:
        import boto3

        self.bucket = bucket
        self._client = boto3.client("s3")

    def put(self, key: str, data: bytes, content_type: str | None = None) -> str:
        # encryption: the bucket's default
        self._client.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=content_type or "binary/octet-stream"
        )
        return key

    def get(self, key: str) -> bytes:
        body: bytes = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body


def blob_store() -> BlobStore:
    settings = get_settings()
    return S3Blobs(settings.blob_bucket) if settings.blob_bucket else LocalBlobs(settings.data_dir / "blobs")


class ForeignBlobError(PermissionError):
    """A blob key outside the tenant's own prefix (`<tenant>/...`)."""


def read_tenant_blob(tenant: str, key: str) -> bytes:
    """A blob of `tenant`, whatever key a row or an argument names: keys are `<tenant>/<area>/...`."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != tenant or any(part in ("", ".", "..") for part in parts):
        raise ForeignBlobError(f"blob {key!r} is not one of tenant {tenant!r}'s")
    return blob_store().get(key)


def media_key(tenant: str, channel: str, media_id: str) -> str:
    """A provider's media id made a key; a long one (a Messenger attachment URL) keeps a digest of the whole id, so
    two URLs that share their first 80 characters never share a blob."""
    digest = hashlib.sha256(media_id.encode()).hexdigest()
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", media_id)
    safe = safe if len(safe) <= 80 else f"{safe[:48]}-{digest[:24]}"
    return f"{tenant}/media/{channel}/{digest[:2]}/{safe}"
