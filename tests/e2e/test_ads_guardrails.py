"""Budget guardrails under a scripted operator conversation, through the local runtime: the step limit counts from
the budget the day started with (no compounding), the account-wide cap refuses what no confirmation can allow,
resuming waits for an approval, the Telegram button and the control UI apply a held change without the model,
error 17 keeps an ad set's budget off for Meta's hour, and campaign budgets (CBO) are changed on the campaign."""

from __future__ import annotations

from typing import Any

import httpx
from clawgate.channels.telegram_webhook import webhook_secret
from clawgate.local.fakes import FakeAnthropic
from clawgate.tenancy.apply import apply_tenant

from tests.ads_fixtures import OPERATOR_CHAT, Ads, ads_tenant, graph, operator_turn, telegram  # noqa: F401
from tests.channel_payloads import raw, tg_message, tg_update, tg_user
from tests.e2e.test_control_plane import connect_operator

CAMPAIGN, CBO = "120400000000000001", "120400000000000002"
A, B, BIG, PAUSED_SET, UNDER_CBO = (f"2385000000000010{n}" for n in range(5))
WHY = "CPL below target for 3 days"


def budget(target: str, amount: int, kind: str = "adset_id") -> tuple[str, dict[str, Any]]:
    return ("ads_set_budget", {kind: target, "daily_budget": amount, "reason": WHY})


def press(ads: Ads, data: str) -> None:
    """The operator presses an inline button in the bot's chat (a Telegram callback_query update)."""
    callback = {"id": f"cb-{data}", "from": tg_user(OPERATOR_CHAT), "data": data,
                "message": tg_message(None, chat_id=OPERATOR_CHAT)}  # fmt: skip
    account = f"{ads.slug}/director"
    headers = {"x-telegram-bot-api-secret-token": webhook_secret(account), "content-type": "application/json"}
    body = raw(tg_update("callback_query", callback))
    answer = httpx.post(f"{ads.local.url}/webhooks/telegram/{account}", content=body, headers=headers, timeout=30)
    assert answer.status_code == 200
    assert ads.local.runtime.queues.wait_idle(60)


def account(ads: Ads) -> None:
    """Running: A 10,000 + B 20,000 + BIG 130,000 (ad-set budgets) + CBO 30,000 = 190,000 KZT of a 200,000 cap."""
    g, acct = ads.graph, ads.account[4:]
    g.add_object(
        CAMPAIGN, "campaign", account_id=acct, name="Implants", status="ACTIVE", objective="OUTCOME_ENGAGEMENT"
    )
    g.add_object(CBO, "campaign", account_id=acct, name="Whitening CBO", status="ACTIVE", daily_budget="3000000")
    for adset_id, name, amount, status, campaign in (
        (A, "Almaty 25-45", "1000000", "ACTIVE", CAMPAIGN), (B, "Astana", "2000000", "ACTIVE", CAMPAIGN),
        (BIG, "Broad KZ", "13000000", "ACTIVE", CAMPAIGN), (PAUSED_SET, "Shymkent", "1000000", "PAUSED", CAMPAIGN),
        (UNDER_CBO, "Whitening women", None, "ACTIVE", CBO),
    ):  # fmt: skip
        fields = {"daily_budget": amount} if amount else {}
        g.add_object(adset_id, "adset", account_id=acct, name=name, status=status, campaign_id=campaign, **fields)


def test_an_operator_conversation_under_the_budget_guardrails(ads: Ads, model: FakeAnthropic) -> None:
    account(ads)
    budget_of = lambda adset: ads.graph.objects[adset].get("daily_budget")  # noqa: E731

    # +20% from the day's start is applied; another +20% on top (+44% from the start) is held, not compounded
    [(_, status, result)] = operator_turn(ads, model, budget(A, 12000))
    assert status == "ok" and "daily budget 10,000 KZT → 12,000 KZT" in result, result
    [(_, status, held)] = operator_turn(ads, model, budget(A, 14400))
    assert status == "ok" and "+44% change from today's starting budget" in held and "Pending change 1" in held
    assert budget_of(A) == "1200000"
    notice = ads.telegram.sent_messages(OPERATOR_CHAT)[-1]
    keyboard = notice["params"]["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in keyboard] == ["cg:change:1:approve", "cg:change:1:deny"]
    assert "Almaty 25-45: daily budget 12,000 KZT → 14,400 KZT" in notice["text"]

    # the operator presses Approve: applied in code, no model call, the outcome is the bot's reply
    calls_before = len(model.message_requests())
    press(ads, "cg:change:1:approve")
    assert budget_of(A) == "1440000" and len(model.message_requests()) == calls_before
    assert ads.rows("SELECT status, decided_by FROM budget_changes") == [
        ("applied", f"operator:telegram:{OPERATOR_CHAT}")
    ]
    reply = ads.telegram.sent_messages(OPERATOR_CHAT)[-1]["text"]
    assert f"ad set Almaty 25-45 ({A}): daily budget 12,000 KZT → 14,400 KZT" in reply  # named for the person
    assert ads.telegram.callback_answers[-1]["callback_query_id"] == "cb-cg:change:1:approve"
    press(ads, "cg:change:1:approve")  # a second press (or Telegram's retry) changes nothing
    assert "already applied" in ads.telegram.sent_messages(OPERATOR_CHAT)[-1]["text"] and budget_of(A) == "1440000"

    # the account-wide cap: B +5,600 fits (running 194,400 → 200,000); A +1,000 more does not, with or without approval
    [(_, status, result)] = operator_turn(ads, model, budget(B, 25600))
    assert status == "ok" and budget_of(B) == "2560000", result
    [(_, status, refusal)] = operator_turn(ads, model, budget(A, 15400))
    assert status == "error" and "above the account-wide cap of 200,000 KZT" in refusal and budget_of(A) == "1440000"

    # resuming is spending: held with buttons, never applied by the turn that asked, and denied in the control UI
    resume = ("ads_set_status", {"kind": "adset", "object_id": PAUSED_SET, "status": "ACTIVE", "reason": "season"})
    confirm = ("ads_confirm_budget_change", {"change_id": 2, "reason": "operator said yes"})
    [(_, status, held), (_, same_status, same_turn)] = operator_turn(ads, model, resume, confirm)
    assert status == "ok" and "resume ad set Shymkent (starts spending 10,000 KZT a day)" in held
    assert same_status == "error" and "turn that asked" in same_turn
    assert ads.graph.objects[PAUSED_SET]["status"] == "PAUSED"
    ws, _ = connect_operator(ads.local, ads.client)
    with ws:
        [waiting] = ws.request("ads.changes")["payload"]["changes"]
        assert (waiting["id"], waiting["kind"], waiting["object_id"]) == (2, "status", PAUSED_SET)
        assert ws.request("ads.decide", {"change_id": 2, "approve": False})["payload"]["result"] == "change 2 cancelled"
        assert ws.request("ads.changes")["payload"]["changes"] == []
    assert ads.graph.objects[PAUSED_SET]["status"] == "PAUSED"

    # a campaign budget lives on the campaign: the ad set under it is refused, the campaign is changed
    [(_, status, refusal), (_, cbo_status, result)] = operator_turn(
        ads, model, budget(UNDER_CBO, 5000), budget(CBO, 30000 - 6000, "campaign_id")
    )
    assert status == "error" and f"campaign {CBO} holds the budget" in refusal
    assert cbo_status == "ok" and ads.graph.objects[CBO]["daily_budget"] == "2400000", result

    # error 17 on a budget change: that ad set's budget stays off for Meta's hour, without asking Graph again
    ads.graph.fail_graph(17, 2446079, "(#17) User request limit reached", path_contains=f"/{B}", method="POST")
    [(_, status, first)] = operator_turn(ads, model, budget(B, 22000))
    updates = len(ads.graph.requests_to(f"/{B}", "POST"))
    [(_, status_again, again)] = operator_turn(ads, model, budget(B, 22000))
    assert status == status_again == "error" and "try again in about 60 minute(s)" in first, first
    assert "blocked budget changes" in again and len(ads.graph.requests_to(f"/{B}", "POST")) == updates

    audit = [a for (a,) in ads.rows("SELECT action FROM audit_log ORDER BY id")]
    assert audit == ["adset.budget", "adset.budget.requested", "adset.budget", "adset.budget",
                     "adset.status.requested", "adset.status.cancelled", "campaign.budget",
                     "adset.budget.blocked"]  # fmt: skip


def test_without_an_account_cap_no_new_spend_is_possible(ads: Ads, model: FakeAnthropic) -> None:
    account(ads)  # a tenant stored before a file had to set the cap (parse_tenant refuses such a file now)
    apply_tenant(ads.tenant.model_copy(update={"ads": ads.tenant.ads.model_copy(update={"account_daily_cap": None})}))
    results = operator_turn(
        ads, model, budget(A, 11000), budget(A, 9000),
        ("ads_set_status", {"kind": "adset", "object_id": PAUSED_SET, "status": "ACTIVE", "reason": "season"}),
    )  # fmt: skip
    assert [status for _, status, _ in results] == ["error", "ok", "error"], results
    assert all("ads.account_daily_cap" in text for _, status, text in results if status == "error")
    assert ads.graph.objects[A]["daily_budget"] == "900000"  # lowering a budget is always possible
