"""The web UI's Content-Security-Policy as deployed. `web/index.html` carries the policy of the local runtime, where
the page, the operator API and the WebSocket share one origin (`'self'`). Deployed, the page comes from CloudFront,
the API and the WebSocket from API Gateway and media previews from the blob bucket's presigned URLs: the deployment
writes index.html with those three origins added, each taken from the resource it names (resolved at deploy time,
like config.json), and no wildcard."""

from __future__ import annotations

import re
from dataclasses import dataclass

CSP_META = re.compile(r'(<meta http-equiv="Content-Security-Policy"\s+content=")([^"]*)(")')


@dataclass(frozen=True)
class WebOrigins:
    """What the deployed page talks to, each a scheme://host origin (CDK tokens until deploy time)."""

    api: str  # https://<id>.execute-api.<region>.amazonaws.com: the operator API (media previews)
    websocket: str  # wss://<id>.execute-api.<region>.amazonaws.com: the control plane
    blobs: str  # https://<bucket>.s3.<region>.amazonaws.com: presigned media URLs (core/blobs.py signs on this host)


def parse(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        if words := part.split():
            directives[words[0]] = words[1:]
    return directives


def render(directives: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


def deployed_policy(local_policy: str, origins: WebOrigins) -> str:
    """The local policy with the deployed origins: connect-src names the WebSocket instead of any `ws:`/`wss:`
    host, plus the API and the bucket; images and media may also come from the bucket."""
    directives = parse(local_policy)
    directives["connect-src"] = ["'self'", origins.websocket, origins.api, origins.blobs]
    for name in ("img-src", "media-src"):
        directives[name] = [*directives.get(name, []), origins.blobs]
    return render(directives)


def deployed_index(index_html: str, origins: WebOrigins) -> str:
    """index.html with its CSP meta tag's policy replaced by `deployed_policy`."""
    found = CSP_META.search(index_html)
    if found is None:
        raise ValueError("web/index.html has no Content-Security-Policy meta tag")
    policy = deployed_policy(found.group(2), origins)
    return index_html[: found.start(2)] + policy + index_html[found.end(2) :]
