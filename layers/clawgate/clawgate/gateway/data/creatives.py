"""Creatives uploaded through the operator API: `creative_uploads` (an S3 multipart upload in progress, guarded by
the hash of its part token) and the `creatives` row a completed upload becomes."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from psycopg.rows import class_row, scalar_row
from pydantic import BaseModel

from clawgate.db import Conn


class Creative(BaseModel):
    id: int
    kind: str
    title: str | None
    blob_key: str | None
    content_type: str | None
    size_bytes: int | None
    status: str


@dataclass(frozen=True)
class NewUpload:
    upload_id: str  # the store's multipart upload id
    blob_key: str
    filename: str
    content_type: str
    size_bytes: int
    part_size: int
    part_count: int
    title: str | None
    direction_id: int | None
    token_sha256: str  # of the token in the local part URLs


@dataclass(frozen=True)
class Upload(NewUpload):
    status: str  # open | completed | aborted
    creative_id: int | None


def add_upload(conn: Conn, upload: NewUpload) -> int:
    """Record an upload the store has opened; returns its id."""
    found = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO creative_uploads (upload_id, blob_key, filename, content_type, size_bytes, part_size,"
            " part_count, title, direction_id, token_sha256) VALUES (%(upload_id)s, %(blob_key)s, %(filename)s,"
            " %(content_type)s, %(size_bytes)s, %(part_size)s, %(part_count)s, %(title)s, %(direction_id)s,"
            " %(token_sha256)s) RETURNING id",
            asdict(upload),
        )
        .fetchone()
    )
    assert found is not None
    return int(found)


def upload(conn: Conn, upload_id: int) -> Upload | None:
    return (
        conn.cursor(row_factory=class_row(Upload))
        .execute(
            "SELECT upload_id, blob_key, filename, content_type, size_bytes, part_size, part_count, title,"
            " direction_id, token_sha256, status, creative_id FROM creative_uploads WHERE id = %s",
            (upload_id,),
        )
        .fetchone()
    )


def close_upload(conn: Conn, upload_id: int) -> bool:
    """Mark an open upload completed; False when it was no longer open (another complete won)."""
    closed = conn.execute(
        "UPDATE creative_uploads SET status = 'completed', completed_at = now() WHERE id = %s AND status = 'open'"
        " RETURNING id",
        (upload_id,),
    ).fetchone()
    return closed is not None


def add_creative(conn: Conn, upload_id: int, upload: Upload, kind: str, size_bytes: int) -> int:
    """The creative a closed upload became, linked from the upload (a retried complete finds it there)."""
    creative_id = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO creatives (kind, title, blob_key, content_type, status, size_bytes, direction_id)"
            " VALUES (%s, %s, %s, %s, 'uploaded', %s, %s) RETURNING id",
            (kind, upload.title, upload.blob_key, upload.content_type, size_bytes, upload.direction_id),
        )
        .fetchone()
    )
    assert creative_id is not None
    conn.execute("UPDATE creative_uploads SET creative_id = %s WHERE id = %s", (creative_id, upload_id))
    return int(creative_id)


def creative(conn: Conn, creative_id: int) -> Creative | None:
    return (
        conn.cursor(row_factory=class_row(Creative))
        .execute(
            "SELECT id, kind, title, blob_key, content_type, size_bytes, status FROM creatives WHERE id = %s",
            (creative_id,),
        )
        .fetchone()
    )
