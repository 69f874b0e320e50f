"""The local runtime leans on moto's internals in a few named places (clawgate.local.moto_jsonpath,
clawgate.local.stepfunctions). These tests fail when a moto upgrade changes one of them, so that the upgrade
re-reads the patch instead of silently running without it (or with a wrong one)."""

from __future__ import annotations

import importlib.metadata
import inspect
import re

import jsonpath_ng
import jsonpath_ng.ext
from clawgate.local import moto_jsonpath
from clawgate.settings import PROJECT_ROOT
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.common.path.result_path import ResultPath
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.backend.execution_worker import SyncExecutionWorker
from moto.stepfunctions.parser.utils import TMP_THREADS


def test_moto_is_the_version_the_patches_were_written_for() -> None:
    pinned = re.search(r'"moto(?:\[[^]]*\])?==([^"]+)"', (PROJECT_ROOT / "pyproject.toml").read_text())
    assert pinned, "moto is pinned exactly in pyproject.toml"
    assert importlib.metadata.version("moto") == pinned.group(1)


def test_moto_still_looks_up_parse_by_name_where_it_is_memoised() -> None:
    for function in (json_path.extract_json, ResultPath._eval_body):
        assert "parse" in function.__code__.co_names, f"{function.__qualname__} no longer calls parse(): re-read"
    assert [(module, parse) for module, parse in moto_jsonpath.PATCHED] == [
        (json_path, jsonpath_ng.ext.parse),
        (result_path, jsonpath_ng.parse),
    ]
    for module, parse in moto_jsonpath.PATCHED:
        assert getattr(module.parse, "__wrapped__", module.parse) is parse  # the parser moto imported


def test_a_path_is_parsed_once_and_evaluates_as_before() -> None:
    moto_jsonpath.install()
    moto_jsonpath.install()  # idempotent: not a cache of a cache
    assert json_path.parse.__wrapped__ is jsonpath_ng.ext.parse
    data = {"turn_id": 7, "turns": [{"turn_id": 7}], "model": {"next": "deliver"}}
    before = json_path.parse.cache_info()
    assert json_path.extract_json("$.turn_id", data) == 7
    assert json_path.extract_json("$.turn_id", {"turn_id": 8}) == 8
    assert json_path.extract_json("$.turns[0]", data) == {"turn_id": 7}
    assert json_path.extract_json("$.model.next", data) == "deliver"
    after = json_path.parse.cache_info()
    assert after.hits - before.hits >= 1
    expression = json_path.parse("$.model")
    assert expression.update_or_create({}, {"x": 1}) == {"model": {"x": 1}}
    assert json_path.extract_json("$.model", {"model": 2}) == 2  # the shared expression kept no data


def test_the_other_moto_internals_the_local_runtime_relies_on_are_where_it_expects_them() -> None:
    # stepfunctions.LocalStateMachines swaps the Lambda client Task states get, and _ParsedOnceWorker hands moto the
    # program parsed at registration; _forget_finished_threads prunes moto's thread list.
    assert list(inspect.signature(lambda_eval_utils.boto_client_for).parameters) == [
        "region",
        "service",
        "state_credentials",
    ]
    assert "boto_client_for" in lambda_eval_utils._invoke_lambda_function.__code__.co_names
    assert callable(SyncExecutionWorker._get_evaluation_entrypoint)
    assert isinstance(TMP_THREADS, list)
