"""A turn's time budget. A turn runs as one Express execution, which AWS ends without a trace after five minutes
(no Catch sees it: the turn would stay `running` and the customer would hear nothing). So every state of
`agent_turn` has a timeout (its function's), and CallModel starts a step only when the worst case of what may follow
still ends, Fail included, a margin before that limit; otherwise it ends the turn cleanly (recorded as
`stop_reason = 'time_budget'`, the customer told, the operator alerted).

The worst cases below are each state's attempts times its timeout plus its retry delays, from
infra/statemachines/agent_turn.asl.json and infra/function_settings.py; tests/infra recomputes them from the
synthesized template and fails when they drift, and checks that Ingest → CallModel → Deliver → Fail fits.
"""

from __future__ import annotations

import math

EXPRESS_LIMIT_S = 300  # Step Functions Express: an execution is stopped after five minutes
MARGIN_S = 30
BUDGET_S = EXPRESS_LIMIT_S - MARGIN_S

# Worst case of each state, in seconds: (1 + retries) x TimeoutSeconds + the retry intervals.
INGEST_WORST_S = 41
CALL_MODEL_WORST_S = 91
RUN_TOOLS_WAVE_WORST_S = 41  # one wave of the RunTools Map (up to TOOLS_AT_ONCE tool calls in parallel)
DELIVER_WORST_S = 27
FAIL_WORST_S = 17
TOOLS_AT_ONCE = 10  # the RunTools Map's MaxConcurrency

TIME_BUDGET_REPLY = (
    "I'm sorry, this is taking me longer than I'm allowed to keep you waiting. A colleague has been told and will "
    "follow up."
)


def elapsed_upper_bound(since_turn_s: float) -> float:
    """Seconds since the execution started, at most: the turn row is written by Ingest, at most its worst case
    after the execution started."""
    return since_turn_s + INGEST_WORST_S


def may_call_model(since_turn_s: float) -> bool:
    """A model call, then delivery or the Fail path, still ends within the budget."""
    return elapsed_upper_bound(since_turn_s) + CALL_MODEL_WORST_S + DELIVER_WORST_S + FAIL_WORST_S <= BUDGET_S


def may_run_tools(since_turn_s: float, tool_calls: int) -> bool:
    """The tools, the model call after them, and delivery or the Fail path still end within the budget."""
    waves = math.ceil(tool_calls / TOOLS_AT_ONCE)
    tail = waves * RUN_TOOLS_WAVE_WORST_S + CALL_MODEL_WORST_S + DELIVER_WORST_S + FAIL_WORST_S
    return elapsed_upper_bound(since_turn_s) + tail <= BUDGET_S
