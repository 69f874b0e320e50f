"""A turn is one Express execution, which AWS stops after five minutes without running any Catch. From the deployed
definition and the functions' timeouts: every state of agent_turn is bounded, the bounds are the ones CallModel
budgets with (clawgate/agent/deadline.py), and the path that must always fit (Ingest, one model call, delivery or
the Fail path) ends a margin before the limit. Loops (RunTools → CallModel) are cut by that budget at run time."""

from __future__ import annotations

from typing import Any

import pytest
from clawgate import entrypoints
from clawgate.agent import deadline

from infra.function_settings import settings_for
from tests.infra.conftest import Synthesized
from tests.infra.test_workflow_definitions import deployed_definition

pytestmark = pytest.mark.infra


def task_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Task state by name, nested Maps included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            found[name] = state
        for nested in ("ItemProcessor", "Iterator"):
            if nested in state:
                found.update(task_states(state[nested]))
    return found


def worst_case_s(state: dict[str, Any]) -> float:
    """(1 + every retry) attempts, each up to the state's timeout, plus the longest retry intervals."""
    timeout = state["TimeoutSeconds"]
    total = float(timeout)
    for retrier in state.get("Retry", []):
        interval = float(retrier.get("IntervalSeconds", 1))
        for attempt in range(retrier.get("MaxAttempts", 3)):
            delay = interval * retrier.get("BackoffRate", 2.0) ** attempt
            total += timeout + min(delay, retrier.get("MaxDelaySeconds", delay))
    return total


@pytest.fixture(scope="module")
def states(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return task_states(deployed_definition(synthesized, "agent_turn"))


def test_every_state_has_a_timeout_no_longer_than_its_function(states: dict[str, dict[str, Any]]) -> None:
    assert set(states) == {"Ingest", "CallModel", "RunTool", "Deliver", "Fail"}
    for name, state in states.items():
        function = state["Resource"]  # deployed_definition names the function behind each ARN
        assert function in entrypoints.WORKFLOW_TASKS["agent_turn"].values()
        assert state["TimeoutSeconds"] == settings_for(function).timeout_s, name


def test_the_budget_constants_are_the_deployed_worst_cases(states: dict[str, dict[str, Any]]) -> None:
    assert worst_case_s(states["Ingest"]) == deadline.INGEST_WORST_S
    assert worst_case_s(states["CallModel"]) == deadline.CALL_MODEL_WORST_S
    assert worst_case_s(states["RunTool"]) == deadline.RUN_TOOLS_WAVE_WORST_S
    assert worst_case_s(states["Deliver"]) == deadline.DELIVER_WORST_S
    assert worst_case_s(states["Fail"]) == deadline.FAIL_WORST_S


def test_run_tools_runs_one_wave_of_the_size_the_budget_assumes(synthesized: Synthesized) -> None:
    definition = deployed_definition(synthesized, "agent_turn")
    run_tools = definition["States"]["Turns"]["ItemProcessor"]["States"]["RunTools"]
    assert run_tools["MaxConcurrency"] == deadline.TOOLS_AT_ONCE


def test_the_path_that_must_always_fit_ends_a_margin_before_expresss_limit(states: dict[str, dict[str, Any]]) -> None:
    worst = sum(worst_case_s(states[name]) for name in ("Ingest", "CallModel", "Deliver", "Fail"))
    assert worst <= deadline.EXPRESS_LIMIT_S - deadline.MARGIN_S
    assert deadline.may_call_model(since_turn_s=0)  # a turn's first model call is never refused


def test_a_tool_round_is_refused_when_it_could_overrun(states: dict[str, dict[str, Any]]) -> None:
    """After the last allowed tool round, the worst case of tools, model and the Fail path still fits."""
    since_turn = 0.0
    while deadline.may_run_tools(since_turn, tool_calls=1):
        since_turn += 1
    latest = deadline.elapsed_upper_bound(since_turn - 1)
    tail = sum(worst_case_s(states[name]) for name in ("RunTool", "CallModel", "Deliver", "Fail"))
    assert latest + tail <= deadline.EXPRESS_LIMIT_S - deadline.MARGIN_S
    assert since_turn > 30  # a typical round takes seconds: several rounds still fit
    assert not deadline.may_run_tools(since_turn - 1, tool_calls=deadline.TOOLS_AT_ONCE + 1)  # two waves cost more
