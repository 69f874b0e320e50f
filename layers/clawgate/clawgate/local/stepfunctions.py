"""Executes the state-machine JSON that CDK deploys, with moto's ASL interpreter (Choice, Map, Retry, Catch…).

moto runs Lambda tasks through a boto3 Lambda client made from the default session; a `before-call` hook on that
session (botocore's own extension point, the one botocore.stub uses) answers `Invoke` with the in-process handler,
so the task runs our code with the payload AWS would send and errors surface as Lambda function errors that
Retry/Catch match on `errorType`."""

from __future__ import annotations

import io
import json
import threading
import time
import traceback
import uuid
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.response import StreamingBody
from moto import mock_aws

from clawgate.local.lambdas import LocalLambdas

REGION = "us-east-1"
ACCOUNT = "000000000000"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/clawgate-local"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class ExecutionFailedError(RuntimeError):
    def __init__(self, status: str, error: str | None, cause: str | None) -> None:
        super().__init__(f"execution {status}: {error}: {cause}")
        self.status, self.error, self.cause = status, error, cause


class LocalStateMachines:
    """Implements ports.WorkflowRunner over moto; one instance per process (moto's patch is global)."""

    def __init__(self, lambdas: LocalLambdas) -> None:
        self._lambdas = lambdas
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()
        boto3.setup_default_session(region_name=REGION, aws_access_key_id="local", aws_secret_access_key="local")
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call.lambda.Invoke", self._invoke)  # type: ignore[arg-type]
        self._sfn = boto3.client("stepfunctions", region_name=REGION)
        self._arns: dict[str, str] = {}
        self._lock = threading.Lock()

    def register(self, name: str, definition: dict[str, Any] | str) -> str:
        body = definition if isinstance(definition, str) else json.dumps(definition)
        with self._lock:
            arn = self._sfn.create_state_machine(name=name, definition=body, roleArn=ROLE_ARN, type="STANDARD")[
                "stateMachineArn"
            ]
            self._arns[name] = arn
        return arn

    def run(self, workflow: str, payload: Any) -> Any:
        """Start an execution and wait for it, as StartSyncExecution would."""
        arn = self._arns[workflow]
        execution = self._sfn.start_execution(stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(payload))
        delay = 0.001
        while True:
            described = self._sfn.describe_execution(executionArn=execution["executionArn"])
            if described["status"] != "RUNNING":
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
        if described["status"] != "SUCCEEDED":
            raise ExecutionFailedError(described["status"], described.get("error"), described.get("cause"))
        return json.loads(described.get("output") or "null")

    def start(self, workflow: str, payload: Any) -> None:
        """Start an execution and return, as StartExecution does (its result is in the database)."""
        self._sfn.start_execution(
            stateMachineArn=self._arns[workflow], name=uuid.uuid4().hex, input=json.dumps(payload)
        )

    def close(self) -> None:
        self._mock.stop()

    def _invoke(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        name = unquote(params["url_path"].split("/functions/", 1)[1].split("/", 1)[0]).rsplit(":", 1)[-1]
        payload = json.loads(params.get("body") or b"{}")
        parsed: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        try:
            result = self._lambdas.invoke(name, payload)
        except Exception as error:  # a Lambda function error: Step Functions sees errorType
            result = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-5:],
            }
            parsed["FunctionError"] = "Unhandled"
        data = json.dumps(result).encode()
        parsed["Payload"] = StreamingBody(io.BytesIO(data), len(data))
        parsed["ResponseMetadata"] = {"HTTPStatusCode": 200, "HTTPHeaders": {}}
        return AWSResponse(params.get("url", ""), 200, HTTPHeaders(), None), parsed
