"""Gateway tokens over HTTP and the WebSocket: failed HTTP authentications are throttled per source like the
WebSocket's, and a revoked token closes the control-plane sockets it opened."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from clawgate.cli import main
from clawgate.db import registry_tx
from clawgate.gateway.data import devices
from clawgate.tenancy.tokens import MAX_FAILURES, create_token, list_tokens

from tests.e2e.conftest import Client
from tests.e2e.test_control_plane import assert_closed, new_device, open_client
from tests.runtime import RunningRuntime

ClientFor = Callable[..., Client]


def from_source(source: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30)


@pytest.mark.parametrize(
    ("source", "path"),
    [("127.0.0.41", "/agents/assistant/run"), ("127.0.0.42", "/usage"), ("127.0.0.43", "/v1/models")],
)
def test_failed_http_authentications_are_throttled_per_source(
    local: RunningRuntime, client_for: ClientFor, source: str, path: str
) -> None:
    client = client_for()
    url = local.url + (path if path.startswith("/v1") else f"/api/v1/tenants/{client.tenant.slug}{path}")
    method = "POST" if path.endswith("/run") else "GET"

    def call(http: httpx.Client, token: str) -> int:
        answer = http.request(method, url, json={"message": "hi"}, headers={"authorization": f"Bearer {token}"})
        return answer.status_code

    with from_source(source) as attacker:
        assert [call(attacker, "cgt_guess") for _ in range(MAX_FAILURES)] == [401] * MAX_FAILURES
        assert call(attacker, client.token) == 429  # refused even with the right token until the window passes
    with from_source("127.0.0.44") as other:
        assert call(other, create_token(client.tenant.slug)) != 429


def test_a_revoked_token_closes_the_sockets_it_opened(
    local: RunningRuntime, client_for: ClientFor, capsys: pytest.CaptureFixture[str]
) -> None:
    client = client_for()
    slug, other_token = client.tenant.slug, create_token(client.tenant.slug)
    device = new_device()
    with registry_tx() as conn:
        devices.register(conn, slug, device, "browser", approve=True)
    revoked, kept = open_client(local), open_client(local)
    with revoked, kept:
        assert revoked.connect(slug, client.token, device)["ok"]
        assert kept.connect(slug, other_token, device)["ok"]
        token_id = list_tokens(slug)[0].id
        assert main(["tokens", "revoke", slug, str(token_id)]) == 0
        assert "1 open control-plane connection(s) closed" in capsys.readouterr().out
        assert_closed(revoked)
        assert kept.call("ping", {"echo": "still here"}) == {"pong": True, "echo": "still here"}
    answer = httpx.post(f"{client.url}/api/v1/tenants/{slug}/agents/assistant/run", json={"message": "hi"},
                        headers={"authorization": f"Bearer {client.token}"}, timeout=30)  # fmt: skip
    assert answer.status_code == 401
    assert main(["tokens", "revoke", slug, str(token_id)]) == 1  # once only
