"""The IAM check itself (tests/iam_check.py): it denies what the synthesized policies deny, and an end-to-end run
against a policy missing one grant (Ingest reading the media it stored: the first deploy's voice-note bug) fails.
The end-to-end slice it guards is marked `iam_checked`: a WhatsApp voice note, a click-to-WhatsApp lead with its
conversion events, a Lead Ads lead, and a WebSocket chat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from clawgate.local.fakes import FakeAnthropic, FakeGraph
from clawgate.tenancy.model import TenantFile

from infra.nag import logical_id
from tests.e2e import test_channels_e2e
from tests.iam_check import IamCheck, Policy, checking, running
from tests.runtime import RunningRuntime


@pytest.fixture(scope="module")
def iam(synthesized: Any) -> IamCheck:
    platform = synthesized.built.platform
    return IamCheck.from_platform(synthesized.template_json(platform), platform, logical_id)


def verdict(iam: IamCheck, function: str, call: Callable[[IamCheck], None]) -> bool:
    """True when `function` may make the call."""
    before = len(iam.violations)
    token = running.set(function)
    try:
        call(iam)
    finally:
        running.reset(token)
    allowed = len(iam.violations) == before
    del iam.violations[before:]
    return allowed


@pytest.mark.parametrize(
    ("function", "call", "allowed"),
    [
        ("turn_ingest", lambda i: i.blob("s3:GetObject", "acme/media/whatsapp/ab/voice-1"), True),
        ("turn_ingest", lambda i: i.blob("s3:PutObject", "acme/media/whatsapp/ab/voice-1"), True),
        ("whatsapp_webhook", lambda i: i.blob("s3:GetObject", "acme/media/whatsapp/ab/voice-1"), False),
        ("turn_ingest", lambda i: i.blob("s3:GetObject", "acme/creatives/1/video.mp4"), False),
        ("turn_deliver", lambda i: i.secret("secret:acme/whatsapp"), True),
        ("ws_message", lambda i: i.secret("secret:acme/whatsapp"), False),
        ("turn_ingest", lambda i: i.secret("secret:platform/anthropic"), False),
        ("turn_call_model", lambda i: i.secret("secret:platform/anthropic"), True),
        ("whatsapp_webhook", lambda i: i.secret("secret:platform/meta-app-secret"), True),
        ("whatsapp_webhook", lambda i: i.database(), False),
        ("ws_message", lambda i: i.database(), True),
        ("whatsapp_webhook", lambda i: i.queue_send("inbound"), True),
        ("capi_sender", lambda i: i.queue_send("inbound"), False),
        ("agent_run", lambda i: i.workflow("agent_turn", synchronous=False), True),
        ("turn_ingest", lambda i: i.workflow("agent_turn", synchronous=True), False),
        ("turn_deliver", lambda i: i.connection("POST", "abc="), True),
        ("lead_worker", lambda i: i.connection("POST", "abc="), False),
    ],
)
def test_the_check_denies_what_the_synthesized_policies_deny(
    iam: IamCheck, function: str, call: Callable[[IamCheck], None], allowed: bool
) -> None:
    assert verdict(iam, function, call) is allowed


def test_an_end_to_end_run_fails_the_check_when_a_grant_is_missing(
    synthesized: Any,
    local: RunningRuntime,
    make_tenant: Callable[..., TenantFile],
    graph: FakeGraph,
    model: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    platform = synthesized.built.platform
    iam = IamCheck.from_platform(synthesized.template_json(platform), platform, logical_id)
    ingest = iam.policies["turn_ingest"]
    without_read = [([x for x in a if x != "s3:GetObject"], r, c) for a, r, c in ingest.statements]
    iam.policies["turn_ingest"] = Policy(without_read)
    with checking(iam, monkeypatch):
        test_channels_e2e.test_a_voice_note_reaches_the_model_as_its_transcript(local, make_tenant, graph, model)
    denied = {(call.function, call.action) for call in iam.violations}
    assert denied == {("turn_ingest", "s3:GetObject")}
    functions = {call.function for call in iam.calls}
    assert {"whatsapp_webhook", "turn_ingest", "turn_call_model", "turn_deliver"} <= functions
