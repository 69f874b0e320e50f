"""An HTTP request and response as the domains see them, whatever carried them (API Gateway in AWS, the local
server on a laptop): the body as the bytes the sender signed, lower-cased headers, the query and path parameters.
`clawgate.edge.apigw` makes them from API Gateway events. Plain dataclasses: a webhook's cold start pays nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HttpRequest:
    method: str = "GET"
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased
    query: Mapping[str, str] = field(default_factory=dict)
    path: Mapping[str, str] = field(default_factory=dict)  # path parameters: {tenant}, {agent}, …
    source_ip: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)  # more than the content type


def json_response(status: int, body: Any) -> HttpResponse:
    return HttpResponse(status, json.dumps(body), "application/json")


def text_response(status: int, body: str) -> HttpResponse:
    return HttpResponse(status, body)
