"""The blob store port: the S3 bucket `CLAWGATE_BLOB_BUCKET` in AWS, `<data_dir>/blobs` locally. Inbound media,
creatives uploaded by operators and report charts live here; rows hold the keys.

In AWS a browser reads a blob straight from S3 through a short-lived presigned URL (`presigned_get`), on the bucket's
regional host `<bucket>.s3.<region>.amazonaws.com`: the origin the web UI's CSP and the bucket's CORS rule name
(infra/constructs/storage.py). The local store has no such URL: the API serves the bytes itself."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from pathlib import Path
from typing import Any, Protocol

from clawgate.settings import get_settings


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str | None = None) -> str: ...

    def get(self, key: str) -> bytes: ...

    def presigned_get(self, key: str, content_type: str, disposition: str, expires: int) -> str | None:
        """A URL that reads the blob for `expires` seconds, answered with these Content-Type and Content-Disposition
        headers whatever the object was stored with; None where the store has no such URL (serve the bytes)."""
        ...


def s3_client() -> Any:
    """SigV4, and presigned URLs on the bucket's regional virtual host in every region (us-east-1 included, where
    boto3 would otherwise sign for the global `s3.amazonaws.com`). AWS_ENDPOINT_URL_S3, where set (a local S3),
    is boto3's own setting and wins. One client per process and endpoint (clients are thread-safe; creating one
    costs ~8 ms warm, `python -m bench media`), not one per request."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _s3_client(region, os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))


@functools.cache
def _s3_client(region: str | None, endpoint: str | None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4", s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"}
    )
    return boto3.client("s3", config=config)


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

    def presigned_get(self, key: str, content_type: str, disposition: str, expires: int) -> str | None:
        return None


class S3Blobs:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self._client = s3_client()

    def put(self, key: str, data: bytes, content_type: str | None = None) -> str:
        # encryption: the bucket's default
        self._client.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=content_type or "binary/octet-stream"
        )
        return key

    def get(self, key: str) -> bytes:
        body: bytes = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def presigned_get(self, key: str, content_type: str, disposition: str, expires: int) -> str | None:
        """Signed here, no request made; S3 answers with the `response-content-*` overrides the signature covers, so
        neither the object's stored type nor a changed URL can make it render as something else."""
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
                  "ResponseContentDisposition": disposition}  # fmt: skip
        return str(self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires))


def blob_store() -> BlobStore:
    settings = get_settings()
    return S3Blobs(settings.blob_bucket) if settings.blob_bucket else LocalBlobs(settings.data_dir / "blobs")


class ForeignBlobError(PermissionError):
    """A blob key outside the tenant's own prefix (`<tenant>/...`)."""


def tenant_key(tenant: str, key: str) -> str:
    """`key` if it names a blob of `tenant` (`<tenant>/<area>/...`, no empty or dot segment), else ForeignBlobError:
    whatever key a row or an argument names is checked before it is read or signed."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != tenant or any(part in ("", ".", "..") for part in parts):
        raise ForeignBlobError(f"blob {key!r} is not one of tenant {tenant!r}'s")
    return key


def read_tenant_blob(tenant: str, key: str) -> bytes:
    """A blob of `tenant`, whatever key a row or an argument names: keys are `<tenant>/<area>/...`."""
    return blob_store().get(tenant_key(tenant, key))


def media_key(tenant: str, channel: str, media_id: str) -> str:
    """A provider's media id made a key; a long one (a Messenger attachment URL) keeps a digest of the whole id, so
    two URLs that share their first 80 characters never share a blob."""
    digest = hashlib.sha256(media_id.encode()).hexdigest()
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", media_id)
    safe = safe if len(safe) <= 80 else f"{safe[:48]}-{digest[:24]}"
    return f"{tenant}/media/{channel}/{digest[:2]}/{safe}"
