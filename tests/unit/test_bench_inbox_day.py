"""The scripted inbox day (`python -m bench inbox_day`) stays playable: its tenant file is valid and its day is the
same every run, with every channel and every kind of customer in it."""

from __future__ import annotations

from clawgate.tenancy.model import parse_tenant

from bench.inbox_day import ADS, SCRIPTS, TENANT, day_script


def test_the_tenant_file_parses_with_a_customer_bot_and_an_operator_bot() -> None:
    tenant = parse_tenant(TENANT)
    assert tenant.handoff.keywords == ["manager", "оператор"]
    assert [bot.operator for bot in tenant.channels.telegram] == [False, True]


def test_the_day_is_seeded_and_covers_every_channel_and_kind() -> None:
    day = day_script()
    assert day == day_script()
    assert {c.channel for c in day} == {"whatsapp", "telegram", "messenger"}
    assert {c.kind for c in day} == set(SCRIPTS)
    assert {c.ad_id for c in day if c.ad_id} == set(ADS)
    assert all(c.channel == "whatsapp" for c in day if c.ad_id or c.kind in ("booking", "complaint"))
