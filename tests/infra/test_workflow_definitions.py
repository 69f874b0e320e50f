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


def deployed_parts(synthesized: Synthesized, workflow: str) -> tuple[str, dict[str, str]]:
    """The ASL asset as deployed, and its DefinitionSubstitutions as placeholder -> function name."""
    platform = synthesized.built.platform
    resources = synthesized.template_json(platform)["Resources"]
    properties = resources[logical_id(platform.workflows.by_name[workflow])]["Properties"]
    asset = synthesized.outdir / f"asset.{properties['DefinitionS3Location']['Key']}"
    names_by_logical_id = {logical_id(target): name for name, target in platform.functions.invoke_targets.items()}
    substitutions = {
        placeholder: names_by_logical_id[_referenced_logical_id(value)]
        for placeholder, value in properties.get("DefinitionSubstitutions", {}).items()
    }
    return asset.read_text(), substitutions


def deployed_definition(synthesized: Synthesized, workflow: str) -> dict[str, Any]:
    text, substitutions = deployed_parts(synthesized, workflow)
    return json.loads(PLACEHOLDER.sub(lambda match: substitutions[match.group(1)], text))


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
def test_every_placeholder_is_substituted_by_the_function_the_catalogue_names(
    synthesized: Synthesized, workflow: str
) -> None:
    text, substitutions = deployed_parts(synthesized, workflow)
    assert set(PLACEHOLDER.findall(text)) == set(substitutions)  # none left for Step Functions to choke on
    assert substitutions == entrypoints.WORKFLOW_TASKS[workflow]
