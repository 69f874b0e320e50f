"""Creative uploads up to 500 MB, as S3 multipart uploads: `start` opens the upload and gives a presigned PUT URL per
part; the client PUTs the parts straight to the store and keeps each answer's ETag; `complete` joins the parts and
records a `creatives` row. In AWS the store is the blob bucket (`CLAWGATE_BLOB_BUCKET`); locally the same API
runs over the local blob store (`<data_dir>/blobs`), with part URLs served by the operator API and guarded by a
per-upload token instead of a signature."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import shutil
import uuid
from typing import Any, Protocol

from pydantic import BaseModel, Field

from clawgate.core.blobs import s3_client
from clawgate.db import tenant_tx
from clawgate.gateway.data import creatives
from clawgate.gateway.data.creatives import Creative, NewUpload, Upload
from clawgate.settings import get_settings

MiB = 1024 * 1024
MAX_UPLOAD_BYTES = 500 * MiB
MIN_PART_BYTES = 5 * MiB  # S3's minimum for every part but the last
DEFAULT_PART_BYTES = 8 * MiB
MAX_PARTS = 10_000
URL_TTL_S = 3600


class UploadError(ValueError):
    """The client's mistake (a missing part, a wrong ETag, a closed upload): a 4xx."""


class UploadRequest(BaseModel):
    filename: str = Field(min_length=1, max_length=200, pattern=r"^[^/\\]+$")
    content_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$", examples=["video/mp4"])
    size_bytes: int = Field(gt=0, le=MAX_UPLOAD_BYTES, description="at most 500 MiB")
    title: str | None = Field(default=None, max_length=300)
    direction_id: int | None = None
    part_size_bytes: int = Field(default=DEFAULT_PART_BYTES, ge=MIN_PART_BYTES, le=MAX_UPLOAD_BYTES)


class PartUrl(BaseModel):
    part_number: int
    url: str


class UploadStarted(BaseModel):
    upload: int
    blob_key: str
    part_size_bytes: int
    parts: list[PartUrl]
    expires_in_s: int = URL_TTL_S


class CompletedPart(BaseModel):
    part_number: int = Field(ge=1, le=MAX_PARTS)
    etag: str = Field(min_length=1, max_length=200)


class CompleteRequest(BaseModel):
    parts: list[CompletedPart] = Field(min_length=1, max_length=MAX_PARTS)


class Store(Protocol):
    def start(self, key: str, content_type: str) -> str: ...

    def part_url(self, key: str, upload_id: str, part_number: int, local_url: str) -> str: ...

    def complete(self, key: str, upload_id: str, parts: list[CompletedPart]) -> int:
        """Join the parts; returns the object's size."""
        ...

    def discard(self, key: str) -> None: ...


class S3Store:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._s3 = client or s3_client()  # SigV4 part URLs on the bucket's regional host (the web UI's CSP names it)

    def start(self, key: str, content_type: str) -> str:
        return str(self._s3.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type)["UploadId"])

    def part_url(self, key: str, upload_id: str, part_number: int, local_url: str) -> str:
        params = {"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": part_number}
        return str(self._s3.generate_presigned_url("upload_part", Params=params, ExpiresIn=URL_TTL_S))

    def complete(self, key: str, upload_id: str, parts: list[CompletedPart]) -> int:
        listed: list[Any] = [
            {"ETag": p.etag, "PartNumber": p.part_number} for p in sorted(parts, key=lambda p: p.part_number)
        ]
        self._s3.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}
        )
        return int(self._s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def discard(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)


class LocalStore:
    """Parts under `<root>/.uploads/<upload_id>/<n>`; the joined file at `<root>/<key>`, as LocalBlobs keeps it."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def _part(self, upload_id: str, part_number: int) -> Any:
        if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
            raise UploadError("unknown upload")
        return self.root / ".uploads" / upload_id / str(part_number)

    def start(self, key: str, content_type: str) -> str:
        upload_id = uuid.uuid4().hex
        (self.root / ".uploads" / upload_id).mkdir(parents=True, exist_ok=True)
        return upload_id

    def part_url(self, key: str, upload_id: str, part_number: int, local_url: str) -> str:
        return local_url.format(part=part_number)

    def put_part(self, upload_id: str, part_number: int, data: bytes) -> str:
        self._part(upload_id, part_number).write_bytes(data)
        return f'"{hashlib.md5(data).hexdigest()}"'

    def complete(self, key: str, upload_id: str, parts: list[CompletedPart]) -> int:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            for part in sorted(parts, key=lambda p: p.part_number):
                path = self._part(upload_id, part.part_number)
                if not path.is_file():
                    raise UploadError(f"part {part.part_number} was never uploaded")
                data = path.read_bytes()
                if part.etag.strip('"') != hashlib.md5(data).hexdigest():
                    raise UploadError(f"part {part.part_number}: the ETag does not match the uploaded bytes")
                out.write(data)
        shutil.rmtree(self.root / ".uploads" / upload_id, ignore_errors=True)
        return int(target.stat().st_size)

    def discard(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


def store() -> S3Store | LocalStore:
    settings = get_settings()
    return S3Store(settings.blob_bucket) if settings.blob_bucket else LocalStore(settings.data_dir / "blobs")


def _kind(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    return major if major in ("image", "video") else "other"


def start(tenant: str, request: UploadRequest, base_url: str, backend: Store | None = None) -> UploadStarted:
    backend = backend or store()
    part_size = max(request.part_size_bytes, math.ceil(request.size_bytes / MAX_PARTS))
    count = max(1, math.ceil(request.size_bytes / part_size))
    safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.filename)[-120:]
    key = f"{tenant}/creatives/{uuid.uuid4().hex[:16]}/{safe_name}"
    upload_id = backend.start(key, request.content_type)
    token = secrets.token_urlsafe(24)
    new = NewUpload(
        upload_id=upload_id,
        blob_key=key,
        filename=request.filename,
        content_type=request.content_type,
        size_bytes=request.size_bytes,
        part_size=part_size,
        part_count=count,
        title=request.title,
        direction_id=request.direction_id,
        token_sha256=hashlib.sha256(token.encode()).hexdigest(),
    )
    with tenant_tx(tenant) as conn:
        upload = creatives.add_upload(conn, new)
    local_url = f"{base_url}/api/v1/tenants/{tenant}/creatives/uploads/{upload}/parts/{{part}}?token={token}"
    parts = [PartUrl(part_number=n, url=backend.part_url(key, upload_id, n, local_url)) for n in range(1, count + 1)]
    return UploadStarted(upload=upload, blob_key=key, part_size_bytes=part_size, parts=parts)


def _open_upload(tenant: str, upload: int) -> Upload:
    with tenant_tx(tenant, "ro") as conn:
        found = creatives.upload(conn, upload)
    if found is None:
        raise LookupError(f"no upload {upload}")
    return found


def put_local_part(tenant: str, upload: int, part_number: int, token: str, data: bytes) -> str:
    """The local stand-in for S3's presigned part PUT; returns the part's ETag."""
    backend = store()
    if not isinstance(backend, LocalStore):
        raise LookupError("part uploads go to S3 here")
    found = _open_upload(tenant, upload)
    if not secrets.compare_digest(hashlib.sha256(token.encode()).hexdigest(), found.token_sha256 or ""):
        raise PermissionError("the part URL's token is wrong")
    if found.status != "open" or not 1 <= part_number <= found.part_count or len(data) > found.part_size:
        raise UploadError(f"part {part_number} does not fit upload {upload} ({found.status}, {found.part_count} parts)")
    return backend.put_part(found.upload_id, part_number, data)


def complete(tenant: str, upload: int, request: CompleteRequest, backend: Store | None = None) -> Creative:
    found = _open_upload(tenant, upload)
    if found.status == "completed":  # a retried complete
        if found.creative_id is None:
            raise LookupError(f"the creative of upload {upload} was deleted")
        return creative(tenant, found.creative_id)
    if sorted(p.part_number for p in request.parts) != list(range(1, found.part_count + 1)):
        raise UploadError(f"give the ETag of each of the {found.part_count} parts")
    backend = backend or store()
    stored = backend.complete(found.blob_key, found.upload_id, request.parts)
    if stored != found.size_bytes:
        backend.discard(found.blob_key)
        raise UploadError(f"the parts add up to {stored} bytes, not the {found.size_bytes} announced")
    with tenant_tx(tenant) as conn:
        if not creatives.close_upload(conn, upload):
            raise UploadError(f"upload {upload} is no longer open")
        creative_id = creatives.add_creative(conn, upload, found, _kind(found.content_type), stored)
    return creative(tenant, creative_id)


def creative(tenant: str, creative_id: int) -> Creative:
    with tenant_tx(tenant, "ro") as conn:
        found = creatives.creative(conn, creative_id)
    if found is None:
        raise LookupError(f"no creative {creative_id}")
    return found
