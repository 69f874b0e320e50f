"""Executes the state-machine JSON that CDK deploys, with moto's ASL interpreter (Choice, Map, Retry, Catch…).

A run is what StartSyncExecution does in AWS: moto's own synchronous execution (`SyncExecution`) evaluates the
program in the caller's thread, so the caller waits on its completion instead of polling describe_execution, and
nothing is kept once it ends. What a turn need not redo is done once: the definition is parsed by moto's ASL parser
when it is registered (the parsed program holds no execution state; each run gets its own environment), each
JSONPath in it is compiled once (clawgate.local.moto_jsonpath), and a Task
state's Lambda client is an in-process one that hands the payload AWS would send to the handler — no botocore
request pipeline. Handler exceptions come back as Lambda function errors, which Retry/Catch match on `errorType`."""

from __future__ import annotations

import datetime
import io
import json
import threading
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import clawgate.local.moto_imports  # noqa: F401  (first: moto's ASL parser without AWS Batch's 110 MiB backend)

# isort: split
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.eval.evaluation_details import EvaluationDetails
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution import SyncExecution
from moto.stepfunctions.parser.backend.execution_worker import SyncExecutionWorker
from moto.stepfunctions.parser.models import stepfunctions_parser_backends
from moto.stepfunctions.parser.utils import TMP_THREADS

from clawgate.core import ports
from clawgate.local import moto_jsonpath
from clawgate.local.lambdas import ACCOUNT, REGION, LocalLambdas, function_arn
from clawgate.local.sync_runs import ExecutionFailedError
from clawgate.observability import logger

__all__ = ["REGION", "ExecutionFailedError", "LocalStateMachines", "function_arn"]

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/clawgate-local"


def function_name(name_or_arn: str) -> str:
    """`name`, `name:qualifier` or a function ARN (with or without a qualifier) → `name`."""
    return name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]


class InProcessLambda:
    """The Lambda client a Task state gets: `invoke` runs the handler in this process."""

    def __init__(self, lambdas: LocalLambdas) -> None:
        self._lambdas = lambdas

    def invoke(self, FunctionName: str, Payload: Any = None, **_: Any) -> dict[str, Any]:
        payload = json.loads(Payload) if isinstance(Payload, str | bytes) and Payload else (Payload or {})
        response: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        try:
            result = self._lambdas.invoke(function_name(FunctionName), payload)
        except Exception as error:  # a Lambda function error: Step Functions sees errorType
            result = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-5:],
            }
            response["FunctionError"] = "Unhandled"
        response["Payload"] = io.BytesIO(json.dumps(result).encode())
        return response


_PROGRAMS: dict[str, Any] = {}  # definition -> the program moto's parser made of it


class _ParsedOnceWorker(SyncExecutionWorker):
    def _get_evaluation_entrypoint(self) -> Any:
        return _PROGRAMS[self._evaluation_details.state_machine_details.definition]


class _Execution(SyncExecution):
    """moto's synchronous execution, evaluated by the worker above."""

    def _get_start_execution_worker(self) -> SyncExecutionWorker:
        return _ParsedOnceWorker(
            evaluation_details=EvaluationDetails(
                aws_execution_details=self._get_start_aws_execution_details(),
                execution_details=self.get_start_execution_details(),
                state_machine_details=self.get_start_state_machine_details(),
            ),
            exec_comm=self._get_start_execution_worker_comm(),
            cloud_watch_logging_session=self._cloud_watch_logging_session,
            activity_store=self._activity_store,
        )


def _forget_finished_threads() -> None:
    """moto keeps every thread an execution starts in a module list (to join them when a mock stops); a runtime that
    never stops would keep them all. The finished ones are dropped (a lost append only spares a join)."""
    if len(TMP_THREADS) > 64:
        TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]


class LocalStateMachines:
    """Implements ports.WorkflowRunner over moto's interpreter; one instance per process (the Lambda client moto's
    Task state uses is replaced process-wide while it is open)."""

    def __init__(self, lambdas: LocalLambdas) -> None:
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()
        moto_jsonpath.install()
        self._backend = stepfunctions_parser_backends[ACCOUNT][REGION]
        self._client = InProcessLambda(lambdas)
        self._original_client_for: Callable[..., Any] = lambda_eval_utils.boto_client_for
        lambda_eval_utils.boto_client_for = self._client_for
        self._machines: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client_for(self, region: str, service: str, state_credentials: Any = None) -> Any:
        if service == "lambda":
            return self._client
        return self._original_client_for(region=region, service=service, state_credentials=state_credentials)

    def register(self, name: str, definition: dict[str, Any] | str) -> str:
        body = definition if isinstance(definition, str) else json.dumps(definition)
        with self._lock:
            machine = self._backend.create_state_machine(name=name, definition=body, roleArn=ROLE_ARN)
            _PROGRAMS.setdefault(body, AmazonStateLanguageParser.parse(body)[0])
            self._machines[name] = machine
        return str(machine.arn)

    def run(self, workflow: str, payload: Any) -> Any:
        """Run to completion in this thread, as StartSyncExecution would, and return the output."""
        machine = self._machines[workflow]
        name = uuid.uuid4().hex
        execution = _Execution(
            name=name, sm_type=machine.sm_type, role_arn=machine.roleArn,
            exec_arn=f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine.name}:{name}",
            account_id=ACCOUNT, region_name=REGION, state_machine=machine,
            start_date=datetime.datetime.now(tz=datetime.UTC), cloud_watch_logging_session=None,
            input_data=json.dumps(payload), trace_header=None, activity_store={},
        )  # fmt: skip
        execution.start()
        _forget_finished_threads()
        status = execution.exec_status.value if execution.exec_status else "UNKNOWN"
        if status != "SUCCEEDED":
            raise ExecutionFailedError(status, execution.error, execution.cause)
        return execution.output

    def start(self, workflow: str, payload: Any) -> ports.Execution:
        """Start an execution and return, as StartExecution does (its result is in the database); the caller may
        wait on its end."""
        ended = threading.Event()
        threading.Thread(target=self._run_logged, args=(workflow, payload, ended), name=workflow, daemon=True).start()
        return ended

    def _run_logged(self, workflow: str, payload: Any, ended: threading.Event) -> None:
        try:
            self.run(workflow, payload)
        except Exception:
            logger.exception("execution failed", extra={"workflow": workflow})
        finally:
            ended.set()

    def close(self) -> None:
        lambda_eval_utils.boto_client_for = self._original_client_for
        self._mock.stop()
