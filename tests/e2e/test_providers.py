"""Providers behind one interface: an OpenAI-compatible router configured in two lines of the tenant file, Claude
on Bedrock through the anthropic SDK's Bedrock client (SigV4-signed), and the labelled offline stand-in."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from clawgate.agent.providers.offline import LABEL
from clawgate.local.fakes import FakeAnthropic, FakeOpenAI

from tests.e2e.conftest import Client

ClientFor = Callable[..., Client]


@pytest.fixture
def router() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key="router-key") as fake:
        yield fake


def test_an_openai_compatible_router_is_a_two_line_tenant_setting(client_for: ClientFor, router: FakeOpenAI) -> None:
    slug = "router_tenant_" + os.urandom(3).hex()
    os.environ[f"CLAWGATE_SECRET_{slug.upper()}_ROUTER"] = "router-key"
    client = client_for(
        slug=slug,
        providers={"router": {"base_url": f"{router.url}/v1", "api_key": f"secret:{slug}/router"}},
        agents=[{"id": "assistant", "name": "Aliya", "model": "router/llama-3.3-70b"}],
        channels={},
    )
    router.script_tool_calls([("read_skill", {"name": "handoff"})])
    router.script_text("Handled by the router.")
    answer = client.run("assistant", "hello router")
    assert answer.json()["reply"] == "Handled by the router."
    first, second = router.completion_requests()
    assert first["model"] == "llama-3.3-70b"
    assert first["messages"][0]["role"] == "system" and "Aliya" in first["messages"][0]["content"]
    assert {tool["function"]["name"] for tool in first["tools"]} >= {"read_skill", "handoff"}
    tool_message = next(m for m in second["messages"] if m["role"] == "tool")
    assert "Handing off to a human" in tool_message["content"]
    assert router.requests[0].bearer_token == "router-key"


def test_claude_on_bedrock_goes_through_the_sdks_bedrock_client(
    client_for: ClientFor, model: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BEDROCK_BASE_URL", model.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    from clawgate.agent import providers

    providers._bedrock.cache_clear()
    client = client_for(
        agents=[{"id": "assistant", "name": "Aliya", "model": "bedrock/anthropic.claude-sonnet-4-5"}], channels={}
    )
    model.script_text("from bedrock")
    assert client.run("assistant", "hi").json()["reply"] == "from bedrock"
    (request,) = model.bedrock_requests()
    assert request["model"] == "anthropic.claude-sonnet-4-5"
    assert request["anthropic_version"] and "model" not in request["messages"][0]
    assert model.requests[-1].headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    providers._bedrock.cache_clear()


def test_the_offline_stand_in_says_what_it_is(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for(agents=[{"id": "assistant", "name": "Aliya", "model": "offline/stand-in"}], channels={})
    reply = client.run("assistant", "anyone there?").json()["reply"]
    assert reply.startswith(LABEL) and "anyone there?" in reply
    assert model.message_requests() == []
