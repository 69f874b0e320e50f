"""The web UI against a deployed API, on the synthesized template: the page (CloudFront) calls the HTTP API and reads
media previews from the blob bucket's presigned URLs, so the API's CORS, the bucket's CORS and the page's CSP must
each name exactly those origins. The deployed index.html is read back from the deployment's sources with each
deploy-time value resolved as CloudFormation would in eu-central-1; the presigned URL the package signs there must
fall under the CSP's bucket origin."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from infra.nag import logical_id
from infra.web_csp import parse
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra
REGION, SUFFIX = "eu-central-1", "amazonaws.com"
CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"\s+content="([^"]*)"')


def web_origin(synthesized: Synthesized) -> dict[str, Any]:
    distribution = logical_id(synthesized.built.platform.storage.distribution)
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}


def resources(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.template_json(synthesized.built.platform)["Resources"]  # type: ignore[no-any-return]


def test_the_blob_bucket_lets_the_web_ui_read_presigned_media(synthesized: Synthesized) -> None:
    bucket = resources(synthesized)[logical_id(synthesized.built.platform.storage.blobs)]
    rules = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    [read] = [rule for rule in rules if "GET" in rule["AllowedMethods"]]
    assert sorted(read["AllowedMethods"]) == ["GET", "HEAD"]
    assert read["AllowedOrigins"] == [web_origin(synthesized)]
    assert "AllowedHeaders" not in read  # the URL is the credential: no Authorization header to allow
    assert all(rule["AllowedOrigins"] == [web_origin(synthesized)] for rule in rules)  # never "*"


def test_the_http_api_answers_the_web_ui_preflight_for_its_get_with_a_token(synthesized: Synthesized) -> None:
    api = resources(synthesized)[logical_id(synthesized.built.platform.apis.http)]
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [web_origin(synthesized)]
    assert cors["AllowMethods"] == ["GET"]  # web/inbox_media.js; the rest of the UI talks over the WebSocket
    assert set(cors["AllowHeaders"]) == {"authorization", "accept"}
    assert not cors.get("AllowCredentials")  # the token is a header, never a cookie


def resolve(value: Any, names: dict[str, str]) -> str:
    """A deploy-time value as CloudFormation resolves it, with `names` for the logical ids."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return {"AWS::Region": REGION, "AWS::URLSuffix": SUFFIX}.get(value["Ref"]) or names[value["Ref"]]
    if "Fn::GetAtt" in value:
        return names[".".join(value["Fn::GetAtt"])]
    separator, parts = value["Fn::Join"]
    return str(separator).join(resolve(part, names) for part in parts)


def deployed_file(synthesized: Synthesized, name: str, names: dict[str, str]) -> str:
    template = synthesized.template(synthesized.built.platform)
    (deployment,) = template.find_resources("Custom::CDKBucketDeployment").values()
    properties = deployment["Properties"]
    found = []
    for key, markers in zip(properties["SourceObjectKeys"], properties["SourceMarkers"], strict=True):
        path = synthesized.outdir / f"asset.{key.removesuffix('.zip')}" / name
        if path.is_file():
            text = path.read_text()
            for marker, value in markers.items():
                text = text.replace(marker, resolve(value, names))
            found.append(text)
    assert len(found) == 1, f"{name} is in {len(found)} of the deployment's sources"
    return found[0]


def test_the_deployed_page_admits_the_api_the_websocket_and_the_bucket_only(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    bucket = "clawgate-blobs-x1"
    api, websocket = f"https://httpid.execute-api.{REGION}.{SUFFIX}", f"wss://wsid.execute-api.{REGION}.{SUFFIX}"
    blobs = f"https://{bucket}.s3.{REGION}.{SUFFIX}"
    names = {f"{logical_id(platform.apis.http)}.ApiEndpoint": api,  # CloudFormation's ApiEndpoint attributes
             f"{logical_id(platform.apis.websocket)}.ApiEndpoint": websocket,
             f"{logical_id(platform.storage.blobs)}.RegionalDomainName": blobs.removeprefix("https://")}  # fmt: skip
    [policy] = CSP.findall(deployed_file(synthesized, "index.html", names))
    directives = parse(policy)
    assert directives["connect-src"] == ["'self'", websocket, api, blobs]
    assert blobs in directives["img-src"] and blobs in directives["media-src"]
    assert not [source for sources in directives.values() for source in sources if "*" in source]
    assert "ws:" not in directives["connect-src"] and "wss:" not in directives["connect-src"]
    assert directives["script-src"] == ["'self'"] and directives["default-src"] == ["'self'"]

    signed = urlsplit(presigned_url(bucket))
    assert f"{signed.scheme}://{signed.netloc}" == blobs  # the host core/blobs.py signs on, in every region
    assert parse_qs(signed.query)["response-content-type"] == ["image/png"]
    assert parse_qs(signed.query)["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]


def presigned_url(bucket: str) -> str:
    from clawgate.core.blobs import S3Blobs

    with pytest.MonkeyPatch.context() as env:
        for name, value in {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                            "AWS_SECRET_ACCESS_KEY": "example"}.items():  # fmt: skip
            env.setenv(name, value)
        env.delenv("AWS_ENDPOINT_URL_S3", raising=False)
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        return S3Blobs(bucket).presigned_get("t1/media/whatsapp/00/x", "image/png", 'inline; filename="x"', 60) or ""
