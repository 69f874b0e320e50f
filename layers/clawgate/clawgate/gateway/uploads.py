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

from clawgate.db import tenant_tx
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


class Creative(BaseModel):
    id: int
    kind: str
    title: str | None
    blob_key: str | None
    content_type: str | None
    size_bytes: int | None
    status: str


class Store(Protocol):
    def start(self, key: str, content_type: str) -> str: ...

    def part_url(self, key: str, upload_id: str, part_number: int, local_url: str) -> str: ...

    def complete(self, key: str, upload_id: str, parts: list[CompletedPart]) -> int:
        """Join the parts; returns the object's size."""
        ...

    def discard(self, key: str) -> None: ...


class S3Store:
    def __init__(self, bucket: str, client: Any = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self._s3 = client or boto3.client("s3", config=Config(signature_version="s3v4"))  # SigV4 presigned URLs

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
    with tenant_tx(tenant) as conn:
        row = conn.execute(
            "INSERT INTO creative_uploads (upload_id, blob_key, filename, content_type, size_bytes, part_size,"
            " part_count, title, direction_id, token_sha256) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id",
            (upload_id, key, request.filename, request.content_type, request.size_bytes, part_size, count,
             request.title, request.direction_id, hashlib.sha256(token.encode()).hexdigest()),
        ).fetchone()  # fmt: skip
    assert row is not None
    local_url = f"{base_url}/api/v1/tenants/{tenant}/creatives/uploads/{row[0]}/parts/{{part}}?token={token}"
    parts = [PartUrl(part_number=n, url=backend.part_url(key, upload_id, n, local_url)) for n in range(1, count + 1)]
    return UploadStarted(upload=int(row[0]), blob_key=key, part_size_bytes=part_size, parts=parts)


def _open_upload(tenant: str, upload: int) -> tuple[Any, ...]:
    with tenant_tx(tenant, "ro") as conn:
        row = conn.execute(
            "SELECT upload_id, blob_key, content_type, size_bytes, part_size, part_count, title, direction_id,"
            " token_sha256, status, creative_id FROM creative_uploads WHERE id = %s",
            (upload,),
        ).fetchone()
    if row is None:
        raise LookupError(f"no upload {upload}")
    return tuple(row)


def put_local_part(tenant: str, upload: int, part_number: int, token: str, data: bytes) -> str:
    """The local stand-in for S3's presigned part PUT; returns the part's ETag."""
    backend = store()
    if not isinstance(backend, LocalStore):
        raise LookupError("part uploads go to S3 here")
    upload_id, _, _, _, part_size, part_count, _, _, token_sha256, status, _ = _open_upload(tenant, upload)
    if not secrets.compare_digest(hashlib.sha256(token.encode()).hexdigest(), token_sha256 or ""):
        raise PermissionError("the part URL's token is wrong")
    if status != "open" or not 1 <= part_number <= part_count or len(data) > part_size:
        raise UploadError(f"part {part_number} does not fit upload {upload} ({status}, {part_count} parts)")
    return backend.put_part(upload_id, part_number, data)


def complete(tenant: str, upload: int, request: CompleteRequest, backend: Store | None = None) -> Creative:
    upload_id, key, content_type, size, _, part_count, title, direction_id, _, status, creative_id = _open_upload(
        tenant, upload
    )
    if status == "completed":
        return creative(tenant, int(creative_id))  # a retried complete
    if sorted(p.part_number for p in request.parts) != list(range(1, part_count + 1)):
        raise UploadError(f"give the ETag of each of the {part_count} parts")
    backend = backend or store()
    stored = backend.complete(key, upload_id, request.parts)
    if stored != size:
        backend.discard(key)
        raise UploadError(f"the parts add up to {stored} bytes, not the {size} announced")
    with tenant_tx(tenant) as conn:
        if not conn.execute(
            "UPDATE creative_uploads SET status = 'completed', completed_at = now() WHERE id = %s AND status = 'open'"
            " RETURNING id",
            (upload,),
        ).fetchone():
            raise UploadError(f"upload {upload} is no longer open")
        row = conn.execute(
            "INSERT INTO creatives (kind, title, blob_key, content_type, status, size_bytes, direction_id)"
            " VALUES (%s, %s, %s, %s, 'uploaded', %s, %s) RETURNING id",
            (_kind(content_type), title, key, content_type, stored, direction_id),
        ).fetchone()
        assert row is not None
        conn.execute("UPDATE creative_uploads SET creative_id = %s WHERE id = %s", (row[0], upload))
    return creative(tenant, int(row[0]))


def creative(tenant: str, creative_id: int) -> Creative:
    with tenant_tx(tenant, "ro") as conn:
        row = conn.execute(
            "SELECT id, kind, title, blob_key, content_type, size_bytes, status FROM creatives WHERE id = %s",
            (creative_id,),
        ).fetchone()
    if row is None:
        raise LookupError(f"no creative {creative_id}")
    return Creative(**dict(zip(Creative.model_fields, row, strict=True)))
