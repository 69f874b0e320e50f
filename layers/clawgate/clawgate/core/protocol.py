"""Control-plane frames, as OpenClaw users know them:
`{"type":"req","id","method","params"}`, `{"type":"res","id","ok","payload"|"error"}`,
`{"type":"event","event","payload","seq"}`; errors are `{"code","message"}`.

The first frame of a connection is `{"type":"req","id":"1","method":"connect","params":{"tenant","token","device"}}`
(no secret in the URL); any other first frame, or none within `CONNECT_TIMEOUT_S`, closes the socket.

Frames are at most `MAX_FRAME_BYTES` (API Gateway's 32 KB WebSocket frame). A longer frame travels, in either
direction, as chunk frames `{"type":"chunk","id":MESSAGE_ID,"index":I,"count":N,"data":PIECE}`, each itself at most
32 KB: the receiver joins `data` of indexes 0..N-1 and reads the result as one frame. The sender cuts its JSON text
anywhere (this module cuts ASCII JSON, so a piece never splits a character) and picks a fresh MESSAGE_ID per message.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

MAX_FRAME_BYTES = 32 * 1024
MAX_CHUNKS = 64  # a reassembled message is at most ~2 MB
CONNECT_TIMEOUT_S = 10.0
_PIECE_CHARS = 15_000  # ASCII JSON: at most 2 bytes per character once escaped inside `data`


class Request(BaseModel):
    type: Literal["req"]
    id: str = Field(min_length=1, max_length=128)
    method: str = Field(min_length=1, max_length=128)
    params: dict[str, Any] = {}


class Chunk(BaseModel):
    type: Literal["chunk"]
    id: str = Field(min_length=1, max_length=128)
    index: int = Field(ge=0, lt=MAX_CHUNKS)
    count: int = Field(ge=1, le=MAX_CHUNKS)
    data: str


class ErrorBody(BaseModel):
    code: str
    message: str


class Response(BaseModel):
    type: Literal["res"] = "res"
    id: str
    ok: bool
    payload: Any = None
    error: ErrorBody | None = None


class Event(BaseModel):
    type: Literal["event"] = "event"
    event: str
    payload: Any = None
    seq: int


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_frame(raw: str) -> Request | Chunk:
    if len(raw.encode()) > MAX_FRAME_BYTES:
        raise ProtocolError("frame_too_large", f"a frame is at most {MAX_FRAME_BYTES} bytes; send chunk frames")
    try:
        kind = json.loads(raw).get("type")
    except (ValueError, AttributeError):
        raise ProtocolError("bad_frame", "not a JSON object") from None
    return parse_chunk(raw) if kind == "chunk" else parse_request(raw)


def parse_request(raw: str) -> Request:
    try:
        return Request.model_validate_json(raw)
    except ValidationError as error:
        raise ProtocolError("bad_frame", f"not a request frame: {error.errors()[0]['msg']}") from None


def parse_chunk(raw: str) -> Chunk:
    try:
        chunk = Chunk.model_validate_json(raw)
    except ValidationError as error:
        raise ProtocolError("bad_frame", f"not a chunk frame: {error.errors()[0]['msg']}") from None
    if chunk.index >= chunk.count:
        raise ProtocolError("bad_frame", "chunk index must be below its count")
    return chunk


def ok(request_id: str, payload: Any) -> str:
    return Response(id=request_id, ok=True, payload=payload).model_dump_json(exclude={"error"})


def error(request_id: str, code: str, message: str) -> str:
    body = ErrorBody(code=code, message=message)
    return Response(id=request_id, ok=False, error=body).model_dump_json(exclude={"payload"})


_seq_lock = threading.Lock()
_last_seq = 0


def next_seq() -> int:
    """Microseconds since the epoch, strictly increasing in this process: events of one turn come from different
    Lambdas (CallModel streams, Deliver ends), so a per-process counter would not order them."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(time.time_ns() // 1000, _last_seq + 1)
        return _last_seq


def event(name: str, payload: Any) -> str:
    return Event(event=name, payload=payload, seq=next_seq()).model_dump_json()


def split_frame(text: str) -> list[str]:
    """The frame itself when it fits, else its chunk frames."""
    if len(text.encode()) <= MAX_FRAME_BYTES:
        return [text]
    ascii_text = json.dumps(json.loads(text), separators=(",", ":"))  # ensure_ascii: no piece splits a character
    pieces = [ascii_text[i : i + _PIECE_CHARS] for i in range(0, len(ascii_text), _PIECE_CHARS)]
    if len(pieces) > MAX_CHUNKS:
        raise ProtocolError("message_too_large", f"a message is at most {MAX_CHUNKS} chunks")
    message_id = uuid.uuid4().hex
    return [
        json.dumps({"type": "chunk", "id": message_id, "index": i, "count": len(pieces), "data": piece})
        for i, piece in enumerate(pieces)
    ]
