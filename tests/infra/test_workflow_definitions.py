"""The state machines CloudFormation creates are the ones the local runtime executes: the deployed definition (the
ASL asset plus DefinitionSubstitutions) and the local one (`load_definition`) agree once every function ARN, in
either, is replaced by the function's name."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from clawgate import entrypoints
from clawgate.local.runtime import load_definition
from clawgate.local.stepfunctions import function_arn

from infra.nag import logical_id
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def deployed_definition(synthesized: Synthesized, workflow: str) -> dict[str, Any]:
    platform = synthesized.built.platform
    resources = synthesized.template_json(platform)["Resources"]
    properties = resources[logical_id(platform.workflows.by_name[workflow])]["Properties"]
    asset = synthesized.outdir / f"asset.{properties['DefinitionS3Location']['Key']}"
    names_by_logical_id = {logical_id(target): name for name, target in platform.functions.invoke_targets.items()}
    substitutions = {
        placeholder: names_by_logical_id[_referenced_logical_id(value)]
        for placeholder, value in properties.get("DefinitionSubstitutions", {}).items()
    }
    text = PLACEHOLDER.sub(lambda match: substitutions[match.group(1)], asset.read_text())
    return json.loads(text)


def local_definition(workflow: str) -> dict[str, Any]:
    text = json.dumps(load_definition(workflow))
    for function in set(entrypoints.WORKFLOW_TASKS[workflow].values()):
        text = text.replace(function_arn(function), function)
    return json.loads(text)


def _referenced_logical_id(value: dict[str, Any]) -> str:
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


@pytest.mark.parametrize("workflow", sorted(entrypoints.WORKFLOW_TASKS))
def test_deployed_definition_is_the_one_the_local_runtime_runs(synthesized: Synthesized, workflow: str) -> None:
    assert deployed_definition(synthesized, workflow) == local_definition(workflow)


@pytest.mark.parametrize("workflow", sorted(entrypoints.WORKFLOW_TASKS))
def test_every_task_function_is_substituted(synthesized: Synthesized, workflow: str) -> None:
    text = json.dumps(deployed_definition(synthesized, workflow))
    assert "${" not in text
