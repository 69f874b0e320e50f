"""Pure helpers for the fake Graph API: the error envelope, parameter decoding, cursor paging, insights rows."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from clawgate.local.fakes.base import Response

RESERVED_PARAMS = frozenset({"access_token", "appsecret_proof", "fields", "limit", "after", "before", "summary"})
_DEFAULT_CODES = {400: 100, 401: 190, 403: 10, 404: 803, 429: 4, 500: 1, 503: 2}


def fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(15).replace("-", "x").replace("_", "y")


def graph_error(
    code: int,
    subcode: int | None = None,
    message: str | None = None,
    error_type: str = "OAuthException",
    is_transient: bool = False,
) -> dict[str, Any]:
    """The Graph error envelope, e.g. `graph_error(190, 463)` for an expired token."""
    error: dict[str, Any] = {
        "message": message or f"(#{code}) Fake Graph error {code}",
        "type": error_type,
        "code": code,
        "fbtrace_id": fbtrace_id(),
        "is_transient": is_transient,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def default_error(status: int) -> dict[str, Any]:
    return graph_error(_DEFAULT_CODES.get(status, 1), message=f"Fake Graph error for HTTP {status}")


def error_response(code: int, message: str, subcode: int | None = None, status: int = 400) -> Response:
    return Response.json(graph_error(code, subcode, message), status)


def missing_object(object_id: str) -> Response:
    message = (
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to missing "
        "permissions, or does not support this operation."
    )
    return error_response(100, message, subcode=33)


def decode_value(value: Any) -> Any:
    """Form values carry JSON-encoded lists, dicts and booleans (the SDK json.dumps them); decode those."""
    if isinstance(value, str) and (value[:1] in ("{", "[") or value in ("true", "false")):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def decode_params(params: dict[str, Any]) -> dict[str, Any]:
    return {key: decode_value(value) for key, value in params.items() if key not in RESERVED_PARAMS}


def decode_events(value: Any) -> list[Any]:
    """CAPI `data`: a JSON list, or (from facebook-business) a JSON string of a list of JSON-encoded event strings."""
    events = decode_value(value)
    if not isinstance(events, list):
        return []
    return [decode_value(event) if isinstance(event, str) else event for event in events]


def select_fields(node: dict[str, Any], fields: str | None, keep: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """Keep only the requested comma-separated fields (plus `keep`), like Graph's `fields=` parameter."""
    if not fields:
        return dict(node)
    wanted = {name.split("{")[0].split(".")[0].strip() for name in fields.split(",")} | set(keep)
    return {key: value for key, value in node.items() if key in wanted}


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)[1])
    except (ValueError, IndexError):
        return 0


def page(items: list[dict[str, Any]], params: dict[str, str], base_url: str) -> dict[str, Any]:
    """One cursor page: `{"data": [...], "paging": {"cursors": {...}, "next"?: url}}`; `next` only if more remain."""
    limit = max(1, int(params.get("limit") or 25))
    start = _offset(params.get("after"))
    chunk = items[start : start + limit]
    result: dict[str, Any] = {"data": chunk}
    if not chunk:
        return result
    end = start + len(chunk)
    paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(end)}}
    if end < len(items):
        paging["next"] = f"{base_url}?{urlencode({**params, 'limit': str(limit), 'after': _cursor(end)})}"
    if start > 0:
        paging["previous"] = f"{base_url}?{urlencode({**params, 'limit': str(limit), 'before': _cursor(start)})}"
    result["paging"] = paging
    return result


def stringify_numbers(value: Any) -> Any:
    """Graph insights send every number as a string, nested `actions` lists included."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [stringify_numbers(item) for item in value]
    if isinstance(value, dict):
        return {key: stringify_numbers(item) for key, item in value.items()}
    return value


def insights_row(row: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Format one registered row: numbers as strings, date_start/date_stop filled, `fields` applied."""
    time_range = decode_value(params.get("time_range"))
    today = dt.date.today().isoformat()
    dates = {"date_start": today, "date_stop": today}
    if isinstance(time_range, dict):
        dates = {"date_start": time_range.get("since", today), "date_stop": time_range.get("until", today)}
    formatted = stringify_numbers({**dates, **row})
    keep = ("date_start", "date_stop")
    selected: dict[str, Any] = select_fields(formatted, params.get("fields"), keep)
    return selected
