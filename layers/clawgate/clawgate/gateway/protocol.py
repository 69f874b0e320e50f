"""Control-plane frames, as OpenClaw users know them:
`{"type":"req","id","method","params"}`, `{"type":"res","id","ok","payload"|"error"}`,
`{"type":"event","event","payload","seq"}`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError


class Request(BaseModel):
    type: Literal["req"]
    id: str = Field(min_length=1, max_length=128)
    method: str = Field(min_length=1, max_length=128)
    params: dict[str, Any] = {}


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


def parse_request(raw: str) -> Request:
    try:
        return Request.model_validate_json(raw)
    except ValidationError as error:
        raise ProtocolError("bad_frame", f"not a request frame: {error.errors()[0]['msg']}") from None


def ok(request_id: str, payload: Any) -> str:
    return Response(id=request_id, ok=True, payload=payload).model_dump_json(exclude_none=True)


def error(request_id: str, code: str, message: str) -> str:
    return Response(id=request_id, ok=False, error=ErrorBody(code=code, message=message)).model_dump_json(
        exclude_none=True
    )
