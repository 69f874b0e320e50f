"""A queue message redelivered after the execution that held it died (kill -9 locally; behind the Pipe a crash or
a timeout before Fail): Ingest re-drives the turn its message joined while that turn is unfinished — to CallModel
without a persisted reply, to Deliver with one — and starts nothing for a finished or `failed` turn (the replay
API re-runs those)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from clawgate.agent.data.turns import finish_turn, mark_budget_exceeded, set_reply
from clawgate.agent.ingest import ingest_bodies
from clawgate.core.envelopes import envelope
from clawgate.core.turns import TurnRef
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeGraph
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

from tests.channel_payloads import wa_text

pytestmark = pytest.mark.usefixtures("database")


def test_a_redelivered_message_re_drives_its_unfinished_turn_once_and_leaves_a_finished_one_alone(
    make_tenant: Callable[..., TenantFile], graph: FakeGraph
) -> None:
    slug, phone_number_id = f"rd{uuid.uuid4().hex[:8]}", str(uuid.uuid4().int % 10**12)
    account = {"phone_number_id": phone_number_id, "waba_id": "1", "agent": "assistant",
               "access_token": f"secret:{slug}/whatsapp"}  # fmt: skip
    apply_tenant(make_tenant(slug, channels={"whatsapp": [account]}))
    first, second = wa_text("hello"), wa_text("are you there?")
    bodies = [json.dumps(envelope("whatsapp", "message", account_id=phone_number_id, provider_id=m["id"], update=m))
              for m in (first, second)]  # fmt: skip

    [ref] = ingest_bodies(bodies)  # a burst: one turn
    assert ref.next == "model"
    again = TurnRef(tenant=slug, turn_id=ref.turn_id, next="model")
    assert ingest_bodies(bodies) == [again]  # still running, no reply yet: the same turn, once, to CallModel
    with tenant_tx(slug) as conn:
        set_reply(conn, ref.turn_id, "the answer")
    assert ingest_bodies(bodies[1:]) == [again.model_copy(update={"next": "deliver"})]  # the reply, not the model
    with tenant_tx(slug) as conn:
        mark_budget_exceeded(conn, ref.turn_id, "over budget")
    assert ingest_bodies(bodies) == [again.model_copy(update={"next": "deliver"})]  # its notice still to deliver
    with tenant_tx(slug) as conn:
        finish_turn(conn, ref.turn_id, "failed", error="Fail marked it")
        turns = conn.execute("SELECT count(*) FROM turns").fetchone()
        transcript = conn.execute("SELECT count(*) FROM messages WHERE role = 'user'").fetchone()
    assert ingest_bodies(bodies) == []  # a failed turn stays failed: the replay API is for that
    assert turns == (1,) and transcript == (1,)  # no second turn, the messages in the transcript once
