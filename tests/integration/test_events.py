"""The after-commit event hub against a real PostgreSQL: an effect runs only once its transaction has committed (and
sees what it wrote), never after a rollback; in-transaction subscribers write in the publisher's transaction and
roll back with it; the budget notice reaches the operator notifier only after the commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from clawgate.core import events, notify
from clawgate.db import tenant_tx
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

pytestmark = pytest.mark.usefixtures("database")


class Boom(Exception):
    pass


@pytest.fixture
def tenant(make_tenant: Callable[..., TenantFile]) -> TenantFile:
    tenant = make_tenant()
    apply_tenant(tenant)
    return tenant


@pytest.fixture
def notices() -> Iterator[list[tuple[str, str]]]:
    sent: list[tuple[str, str]] = []

    def notifier(tenant_slug: str, text: str) -> bool:
        sent.append((tenant_slug, text))
        return True

    notify.install(notifier)
    yield sent
    notify.install(None)


def config_value(slug: str, key: str) -> object:
    with tenant_tx(slug, "ro") as conn:
        row = conn.execute("SELECT value FROM config WHERE key = %s", (key,)).fetchone()
    return row[0] if row else None


def test_an_effect_runs_after_the_commit_and_sees_the_committed_rows(tenant: TenantFile) -> None:
    seen: list[object] = []
    with tenant_tx(tenant.slug) as conn:
        conn.execute("INSERT INTO config (key, value) VALUES ('probe', '\"written\"')")
        events.after_commit(lambda: seen.append(config_value(tenant.slug, "probe")))
        assert seen == []  # not while the transaction is open
    assert seen == ["written"]  # from another connection: the row was committed first


def test_a_rolled_back_transaction_runs_no_effect(tenant: TenantFile, notices: list[tuple[str, str]]) -> None:
    seen: list[str] = []
    with pytest.raises(Boom), tenant_tx(tenant.slug) as conn:
        events.after_commit(lambda: seen.append("effect"))
        events.publish(conn, events.BudgetSpent(tenant.slug, tenant.name, 21.0, 20.0))
        raise Boom
    assert seen == [] and notices == []


def test_the_budget_notice_reaches_the_operator_once_the_transaction_commits(
    tenant: TenantFile, notices: list[tuple[str, str]]
) -> None:
    with tenant_tx(tenant.slug, pipeline=True) as conn:
        events.publish(conn, events.BudgetSpent(tenant.slug, "Acme Dental", 21.5, 20.0))
        assert notices == []
    assert notices == [(tenant.slug, "Acme Dental: today's model budget is spent ($21.50 of $20.00); customers get "
                                     "a fixed reply until tomorrow.")]  # fmt: skip


def test_in_transaction_subscribers_write_with_the_publisher_and_roll_back_with_it(tenant: TenantFile) -> None:
    written: list[int] = []

    @events.subscribe(events.ReplySent, in_transaction=True)
    def probe(conn: object, event: events.ReplySent) -> None:
        if event.tenant == tenant.slug:
            tenant_conn = conn  # the publisher's connection, inside its transaction
            tenant_conn.execute(  # type: ignore[attr-defined]
                "INSERT INTO config (key, value) VALUES (%s, '1')", (f"sent_{event.chunk_index}",)
            )
            written.append(event.chunk_index)

    with pytest.raises(Boom), tenant_tx(tenant.slug) as conn:
        events.publish(conn, events.ReplySent(tenant.slug, "probe", None, "peer", None, chunk_index=7))
        raise Boom
    with tenant_tx(tenant.slug) as conn:
        events.publish(conn, events.ReplySent(tenant.slug, "probe", None, "peer", None, chunk_index=8))
    assert written == [7, 8]
    assert config_value(tenant.slug, "sent_7") is None
    assert config_value(tenant.slug, "sent_8") == 1
