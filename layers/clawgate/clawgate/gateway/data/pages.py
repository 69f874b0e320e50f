"""Keyset pagination of the lists the WebSocket methods and the operator API read: a page is `{items, next_cursor}`;
the cursor is the sort key of the last item, opaque to the client (base64url JSON). Pass it back to get the next
page."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

Item = TypeVar("Item", bound=BaseModel)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class BadCursorError(ValueError):
    pass


class PageQuery(BaseModel):
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=500)


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = None


def encode_cursor(key: Sequence[Any]) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise BadCursorError("cursor: not one this API gave out") from None
    if not isinstance(values, list) or len(values) != arity:
        raise BadCursorError("cursor: not one this API gave out")
    return values


def build_page(rows: Sequence[Item], limit: int, key: Callable[[Item], Sequence[Any]]) -> Page[Item]:
    """`rows` were fetched with LIMIT limit + 1: the extra row only says that there is a next page."""
    items = list(rows[:limit])
    more = len(rows) > limit and items
    return Page[Any](items=items, next_cursor=encode_cursor(key(items[-1])) if more else None)
