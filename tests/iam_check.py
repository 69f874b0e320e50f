"""Every AWS call the local runtime's handlers make, checked against the synthesized IAM policy of the function
making it. In AWS those calls are boto3 requests (SQS, S3, Secrets Manager, Step Functions, @connections); locally
the same handlers go through the ports, the blob store, `secrets.resolve` and the database pool. `IamCheck` wraps
each of those, knows which function is running (the LocalLambdas handler it is inside), turns each operation into the
IAM action and resource ARN the AWS adapter would use, and evaluates it against that function's role policy from the
template (Allow statements, wildcards, `aws:ResourceTag` conditions). A missing grant is a recorded violation.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

ACCOUNT, REGION, PARTITION = "123456789012", "eu-central-1", "aws"
SECRET_SUFFIX = "-AbCdEf"  # Secrets Manager appends six random characters to a secret's name in its ARN
TENANT_TAG = {"clawgate:scope": "tenant"}

running: contextvars.ContextVar[str | None] = contextvars.ContextVar("running_function", default=None)


@dataclass(frozen=True)
class Call:
    function: str | None
    action: str
    resource: str


class Template:
    """Resolves the intrinsic functions of one template into the concrete values a deployment would have."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.resources: dict[str, dict[str, Any]] = template["Resources"]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str | int | float):
            return str(value)
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::GetAtt" in value:
            return self._attribute(*value["Fn::GetAtt"])
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(part)) for part in parts)
        if "Fn::Split" in value:
            separator, text = value["Fn::Split"]
            return str(self.resolve(text)).split(separator)
        if "Fn::Select" in value:
            index, items = value["Fn::Select"]
            return self.resolve(items)[int(index)]
        raise ValueError(f"cannot resolve {value}")

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                  "AWS::URLSuffix": "amazonaws.com"}  # fmt: skip
        if name in pseudo:
            return pseudo[name]
        resource = self.resources[name]
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        if kind == "AWS::SecretsManager::Secret":
            return secret_arn(properties.get("Name", name))
        if kind == "AWS::SecretsManager::SecretTargetAttachment":
            return str(self.resolve(properties["SecretId"]))
        if kind == "AWS::StepFunctions::StateMachine":
            return f"arn:{PARTITION}:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        if kind == "AWS::S3::Bucket":
            return name.lower()
        return name  # APIs, functions, roles: their id or name

    def _attribute(self, name: str, attribute: str) -> str:
        kind = self.resources[name]["Type"]
        if attribute == "Arn" and kind == "AWS::SQS::Queue":
            return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}"
        if attribute == "Arn" and kind == "AWS::S3::Bucket":
            return f"arn:{PARTITION}:s3:::{name.lower()}"
        if attribute == "Arn" and kind == "AWS::Lambda::Function":
            return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{name}"
        if attribute == "Arn":
            return f"arn:{PARTITION}:unknown:{REGION}:{ACCOUNT}:{name}"
        return f"{name}.{attribute}"

    def role_statements(self, function_logical_id: str) -> list[dict[str, Any]]:
        role = self.resources[function_logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        statements: list[dict[str, Any]] = []
        for resource in self.resources.values():
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"].get("Roles", []):
                statements += resource["Properties"]["PolicyDocument"]["Statement"]
        return statements


def secret_arn(name: str) -> str:
    return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}{SECRET_SUFFIX}"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Policy:
    """One function's Allow statements, resolved."""

    statements: list[tuple[list[str], list[str], dict[str, Any]]]

    def allows(self, action: str, resource: str, tags: dict[str, str]) -> bool:
        for actions, resources, conditions in self.statements:
            if not any(fnmatchcase(action.lower(), a.lower()) for a in actions):
                continue
            if not any(fnmatchcase(resource, r) for r in resources):
                continue
            if _conditions_hold(conditions, tags):
                return True
        return False


def _conditions_hold(conditions: dict[str, Any], tags: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        for key, wanted in tests.items():
            if operator != "StringEquals" or not key.startswith("aws:ResourceTag/"):
                return False  # a condition this checker does not model denies: better a false alarm than a gap
            if tags.get(key.removeprefix("aws:ResourceTag/")) not in _listed(wanted):
                return False
    return True


@dataclass
class IamCheck:
    """Policies by function, the ARNs of the resources the ports name, and every call checked."""

    template: Template
    policies: dict[str, Policy]
    queue_arns: dict[str, str]
    state_machine_arns: dict[str, str]
    bucket: str
    websocket_api: str
    app_login_secret: str
    calls: list[Call] = field(default_factory=list)
    violations: list[Call] = field(default_factory=list)

    @classmethod
    def from_platform(cls, template_json: dict[str, Any], platform: Any, logical_id: Callable[[Any], str]) -> IamCheck:
        template = Template(template_json)
        policies = {}
        for name, function in platform.functions.by_name.items():
            statements = []
            for statement in template.role_statements(logical_id(function)):
                if statement.get("Effect") != "Allow":
                    continue
                actions = [str(a) for a in _listed(statement["Action"])]
                resources = [str(template.resolve(r)) for r in _listed(statement["Resource"])]
                statements.append((actions, resources, statement.get("Condition", {})))
            policies[name] = Policy(statements)
        return cls(
            template=template,
            policies=policies,
            queue_arns={q: template._attribute(logical_id(x), "Arn") for q, x in platform.queues.by_name.items()},
            state_machine_arns={w: template._ref(logical_id(m)) for w, m in platform.workflows.by_name.items()},
            bucket=template._ref(logical_id(platform.storage.blobs)),
            websocket_api=logical_id(platform.apis.websocket),
            app_login_secret=str(template.resolve(platform.resolve(platform.database.app_secret.secret_arn))),
        )

    def check(self, action: str, resource: str, tags: dict[str, str] | None = None) -> None:
        """Calls made outside any handler (the test itself reading a blob) are recorded, not judged."""
        call = Call(running.get(), action, resource)
        self.calls.append(call)
        if call.function is None:
            return
        policy = self.policies.get(call.function)
        if policy is None or not policy.allows(action, resource, tags or {}):
            self.violations.append(call)

    def by_function(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for call in self.calls:
            found.setdefault(call.function or "?", set()).add(call.action)
        return found

    # What each local stand-in does, as the AWS adapter would ask IAM for it ----------------------------------------
    def queue_send(self, queue: str) -> None:
        self.check("sqs:SendMessage", self.queue_arns[queue])

    def workflow(self, workflow: str, synchronous: bool) -> None:
        action = "states:StartSyncExecution" if synchronous else "states:StartExecution"
        self.check(action, self.state_machine_arns[workflow])

    def connection(self, method: str, connection_id: str) -> None:
        api = f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT}:{self.websocket_api}"
        self.check("execute-api:ManageConnections", f"{api}/prod/{method}/@connections/{connection_id}")

    def blob(self, action: str, key: str) -> None:
        self.check(action, f"arn:{PARTITION}:s3:::{self.bucket}/{key}")

    def secret(self, reference: str) -> None:
        name = "clawgate/" + reference.removeprefix("secret:")
        tags = {} if name.startswith("clawgate/platform/") else TENANT_TAG
        self.check("secretsmanager:GetSecretValue", secret_arn(name), tags)

    def database(self) -> None:
        self.check("secretsmanager:GetSecretValue", self.app_login_secret)


class _Queues:
    def __init__(self, inner: Any, iam: IamCheck) -> None:
        self._inner, self._iam = inner, iam

    def send(self, queue: str, messages: Sequence[Any]) -> None:
        self._iam.queue_send(queue)
        token = running.set(None)  # the local queues keep messages in PostgreSQL: SQS's storage, not the function's
        try:
            self._inner.send(queue, messages)
        finally:
            running.reset(token)


class _Connections:
    def __init__(self, inner: Any, iam: IamCheck) -> None:
        self._inner, self._iam = inner, iam

    def post(self, connection_id: str, data: str) -> bool:
        self._iam.connection("POST", connection_id)
        return bool(self._inner.post(connection_id, data))

    def delete(self, connection_id: str) -> None:
        self._iam.connection("DELETE", connection_id)
        self._inner.delete(connection_id)


class _Workflows:
    def __init__(self, inner: Any, iam: IamCheck) -> None:
        self._inner, self._iam = inner, iam

    def run(self, workflow: str, payload: Any) -> Any:
        self._iam.workflow(workflow, synchronous=True)
        return self._inner.run(workflow, payload)

    def start(self, workflow: str, payload: Any) -> Any:
        self._iam.workflow(workflow, synchronous=False)
        return self._inner.start(workflow, payload)


class _Blobs:
    def __init__(self, inner: Any, iam: IamCheck) -> None:
        self._inner, self._iam = inner, iam

    def put(self, key: str, data: bytes, content_type: str | None = None) -> str:
        self._iam.blob("s3:PutObject", key)
        return str(self._inner.put(key, data, content_type))

    def get(self, key: str) -> bytes:
        self._iam.blob("s3:GetObject", key)
        return bytes(self._inner.get(key))

    def presigned_get(self, key: str, content_type: str, disposition: str, expires: int) -> str | None:
        self._iam.blob("s3:GetObject", key)  # a presigned URL can do what its signer may, no more
        return self._inner.presigned_get(key, content_type, disposition, expires)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _replace_everywhere(original: Any, replacement: Any, monkeypatch: Any) -> None:
    """Rebind a function in every loaded clawgate module that imported it by name."""
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith(("clawgate", "functions")):
            for attribute, value in list(vars(module).items()):
                if value is original:
                    monkeypatch.setattr(module, attribute, replacement)


@contextmanager
def checking(iam: IamCheck, monkeypatch: Any) -> Iterator[IamCheck]:
    """Wrap the ports, the blob store, secret resolution and the database pool of the running local runtime."""
    from clawgate import secrets
    from clawgate.core import blobs, ports
    from clawgate.db import pool
    from clawgate.local.lambdas import LocalLambdas

    installed = ports._ports
    monkeypatch.setattr(ports, "_ports", ports.Ports(
        queues=_Queues(ports.queues(), iam), connections=_Connections(ports.connections(), iam),
        workflows=_Workflows(ports.workflows(), iam)))  # fmt: skip

    original_handler = LocalLambdas.handler

    def handler(self: LocalLambdas, name: str) -> Any:
        inner = original_handler(self, name)

        def run_as(event: Any, context: Any) -> Any:
            token = running.set(getattr(context, "function_name", name))
            try:
                return inner(event, context)
            finally:
                running.reset(token)

        return run_as

    monkeypatch.setattr(LocalLambdas, "handler", handler)

    original_store, original_resolve, original_pool = blobs.blob_store, secrets.resolve, pool.get_pool

    def blob_store() -> Any:
        return _Blobs(original_store(), iam)

    def resolve(value: str) -> str:
        if secrets.is_reference(value) and running.get() is not None:
            iam.secret(value)
        return original_resolve(value)

    def get_pool() -> Any:
        if running.get() is not None:
            iam.database()
        return original_pool()

    for original, replacement in ((original_store, blob_store), (original_resolve, resolve), (original_pool, get_pool)):
        _replace_everywhere(original, replacement, monkeypatch)
    try:
        yield iam
    finally:
        ports._ports = installed
