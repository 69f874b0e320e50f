"""State machines from `infra/statemachines/<name>.asl.json`, the same files the local runtime executes. Each
placeholder of `entrypoints.WORKFLOW_TASKS[<name>]` becomes the ARN of the function behind it."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from clawgate import entrypoints
from constructs import Construct

from infra.constructs.functions import Functions, construct_id
from infra.project import Project

JOBS = "jobs"
# Workflows that wait or run long are Standard; the rest (agent turns) are Express.
STANDARD_WORKFLOWS = frozenset({JOBS})


def workflow_tasks() -> dict[str, dict[str, str]]:
    """The catalogue's workflows, plus the scheduled-jobs workflow that tenant schedules target."""
    return {JOBS: {}, **entrypoints.WORKFLOW_TASKS}


def is_express(workflow: str) -> bool:
    return workflow not in STANDARD_WORKFLOWS


class Workflows(Construct):
    def __init__(self, scope: Construct, id: str, *, project: Project, functions: Functions) -> None:
        super().__init__(scope, id)
        self.by_name: dict[str, sfn.StateMachine] = {}
        for name, tasks in workflow_tasks().items():
            self.by_name[name] = self._state_machine(project, functions, name, tasks)

    def _state_machine(
        self, project: Project, functions: Functions, name: str, tasks: dict[str, str]
    ) -> sfn.StateMachine:
        cid = construct_id(name)
        express = is_express(name)
        targets = {placeholder: functions.invoke_targets[function] for placeholder, function in tasks.items()}
        state_machine = sfn.StateMachine(
            self,
            cid,
            comment=f"clawgate {name} ({project.asl_file(name).name})",
            state_machine_type=sfn.StateMachineType.EXPRESS if express else sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(project.asl_file(name))),
            definition_substitutions={p: target.function_arn for p, target in targets.items()} or None,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(
                    self, f"{cid}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
                ),
                level=sfn.LogLevel.ALL,
                include_execution_data=False,  # inputs carry message text and phone numbers
            ),
        )
        if targets:
            state_machine.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"],
                    resources=sorted({target.function_arn for target in targets.values()}),
                )
            )
        functions.grant_workflow(name, state_machine, express)
        return state_machine
