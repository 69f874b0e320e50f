"""`clawgate --aws …`: the operator's way into a deployed system, with no database connection from the laptop.

The command line goes to the admin function with `lambda:Invoke` (so IAM decides who may use it: whoever may
invoke that one function), which runs the same `clawgate` command in AWS, next to the database, and hands back
what it printed and its exit code. Only the commands in ALLOWED run there. `--profile` and `--region` (or
`CLAWGATE_AWS_PROFILE`, which also turns the remote mode on) choose the credentials.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

# (command, subcommand) an operator may run remotely: sign-in, devices, pairings, status, jobs, replays.
ALLOWED = frozenset(
    {
        ("tenants", "list"),
        ("tokens", "create"),
        ("tokens", "list"),
        ("tokens", "revoke"),
        ("devices", "list"),
        ("devices", "approve"),
        ("devices", "revoke"),
        ("pairing", "list"),
        ("pairing", "approve"),
        ("channels", "status"),
        ("channels", "telegram"),  # set-webhook: the bot's secret derives from the platform key, read in AWS
        ("channels", "slack"),  # request-url: the signing secret is sealed under the platform key, read in AWS
        ("channels", "discord"),  # register-commands: the bot token and the platform key, read in AWS
        ("channels", "meta"),  # subscribe: the Page and Instagram tokens are tenant secrets, read in AWS
        ("jobs", "run"),
        ("jobs", "list"),
        ("turns", "replay"),
    }
)
FUNCTION_PARAMETER = "/clawgate/platform/admin-function-name"  # written by the platform stack
PROFILE_ENV = "CLAWGATE_AWS_PROFILE"
REMOTE_OPTIONS = {"--aws": 0, "--profile": 1, "--region": 1}  # option -> how many values follow it


# Set while the admin function runs a command: that command runs here, whatever the environment says.
_serving = contextvars.ContextVar("serving", default=False)


class AdminRequest(BaseModel):
    argv: list[str] = Field(min_length=2, max_length=24)


class AdminResult(BaseModel):
    exit_code: int
    stdout: str = ""
    stderr: str = ""


class RemoteError(RuntimeError):
    pass


def allowed(argv: Sequence[str]) -> bool:
    return len(argv) >= 2 and (argv[0], argv[1]) in ALLOWED


def run(request: AdminRequest, main: Callable[[Sequence[str]], int]) -> AdminResult:
    """In the admin function: run the command as `clawgate` would and capture what it printed."""
    if not allowed(request.argv):
        return AdminResult(exit_code=2, stderr=f"not allowed remotely: clawgate {' '.join(request.argv[:2])}\n")
    out, err = io.StringIO(), io.StringIO()
    serving = _serving.set(True)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(request.argv)
        except SystemExit as exit_:  # argparse refusing an argument
            code = exit_.code if isinstance(exit_.code, int) else 2
        finally:
            _serving.reset(serving)
    return AdminResult(exit_code=code, stdout=out.getvalue(), stderr=err.getvalue())


def split_remote(argv: Sequence[str]) -> tuple[dict[str, str | bool], list[str]]:
    """(`--aws`/`--profile`/`--region` given before the command, the command line without them)."""
    options: dict[str, str | bool] = {}
    rest = list(argv)
    while rest and rest[0] in REMOTE_OPTIONS:
        option = rest.pop(0)
        if REMOTE_OPTIONS[option] == 0:
            options[option] = True
        elif rest:
            options[option] = rest.pop(0)
        else:
            raise RemoteError(f"{option} needs a value")
    if _serving.get():
        return {}, rest
    if os.environ.get(PROFILE_ENV):
        options.setdefault("--profile", os.environ[PROFILE_ENV])
        options["--aws"] = True
    return options, rest


def aws_session(profile: str | None, region: str | None) -> Any:
    import boto3

    return boto3.Session(profile_name=profile, region_name=region)


def invoke(argv: Sequence[str], *, profile: str | None = None, region: str | None = None) -> AdminResult:
    """On the operator's machine: `argv` run by the admin function (boto3 `lambda invoke`, synchronous)."""
    from botocore.config import Config

    if not allowed(argv):
        raise RemoteError(f"`clawgate {' '.join(argv[:2])}` does not run against AWS (see docs/deploy.md)")
    session = aws_session(profile, region)
    name = session.client("ssm").get_parameter(Name=FUNCTION_PARAMETER)["Parameter"]["Value"]
    client = session.client("lambda", config=Config(read_timeout=900, retries={"total_max_attempts": 1}))
    response = client.invoke(FunctionName=name, Payload=json.dumps({"argv": list(argv)}).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise RemoteError(f"the admin function failed: {message}")
    return AdminResult.model_validate(payload)
