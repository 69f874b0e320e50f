"""The DM policy decides each message of a batch by its own sender: in a group, a stranger's message neither gets in
on an allowed member's turn nor shuts that member out by coming last."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from clawgate.agent.ingest import ingest
from clawgate.db import tenant_tx
from clawgate.local.queue import Received
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

from tests.channel_fixtures import environment, tenant_secrets
from tests.channel_payloads import tg_message, tg_update
from tests.e2e.test_channels_e2e import post_telegram
from tests.runtime import RunningRuntime

MEMBER, STRANGER = 123456789, 666  # the director's bot allowlists 123456789 (tests.conftest.tenant_data)
MENTION = [{"type": "mention", "offset": 0, "length": 9}]


@pytest.fixture
def tenant(make_tenant: Callable[..., TenantFile]) -> Iterator[TenantFile]:
    made = make_tenant()
    apply_tenant(made)
    with environment(**tenant_secrets(made.slug)):
        yield made


def group_update(text: str, user_id: int) -> dict[str, Any]:
    message = tg_message(text, chat_id=-100777, chat_type="supergroup", user_id=user_id, entities=MENTION)
    return tg_update("message", message)


def turn_texts(tenant: TenantFile, turn_id: int) -> list[str]:
    with tenant_tx(tenant.slug, "ro") as conn:
        rows = conn.execute("SELECT text FROM messages WHERE turn_id = %s AND role = 'user'", (turn_id,)).fetchall()
    return [str(row[0]) for row in rows]


@pytest.mark.usefixtures("webhook_key")
@pytest.mark.parametrize("order", [(MEMBER, STRANGER), (STRANGER, MEMBER)])
def test_each_message_of_a_group_batch_is_admitted_by_its_sender(
    local: RunningRuntime, tenant: TenantFile, inbound: list[Received], order: tuple[int, int]
) -> None:
    for user_id in order:
        post_telegram(local, tenant, group_update(f"@klod_bot from {user_id}", user_id), bot="klod_bot")
    assert local.runtime.queues.get("inbound").wait_idle()  # the queue's consumer captured what was sent
    assert len(inbound) == 2
    refs = ingest([message.body for message in inbound])["turns"]  # one batch, as the Pipe delivers it
    assert len(refs) == 1
    texts = " ".join(turn_texts(tenant, refs[0]["turn_id"]))
    assert f"from {MEMBER}" in texts and f"from {STRANGER}" not in texts
