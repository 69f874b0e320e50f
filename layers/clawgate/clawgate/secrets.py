"""`secret:<name>` references: Secrets Manager in AWS, `CLAWGATE_SECRET_<NAME>` in the environment locally.

A missing secret is an error at the moment it is needed, never at import time.
"""

from __future__ import annotations

import os
import re

from clawgate.observability import register_secret

SECRET_PREFIX = "secret:"
OFFLINE_FALLBACK = "CLAWGATE_SECRET_FALLBACK"
# What a deployed secret holds until an operator pastes the real value (infra creates it so): read as missing.
PLACEHOLDER = "CLAWGATE-PLACEHOLDER: paste the real value"
# Secrets Manager values are cached this long per container, so a rotated value takes effect within it.
CACHE_SECONDS = 300


class MissingSecretError(LookupError):
    def __init__(self, reference: str, where: str) -> None:
        super().__init__(f"secret {reference!r} is not set ({where})")
        self.reference = reference


def is_reference(value: str | None) -> bool:
    return bool(value) and str(value).startswith(SECRET_PREFIX)


def env_name(reference: str) -> str:
    """`secret:acme/whatsapp` -> `CLAWGATE_SECRET_ACME_WHATSAPP`."""
    name = reference.removeprefix(SECRET_PREFIX)
    return "CLAWGATE_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def secret_id(reference: str) -> str:
    """The Secrets Manager name of a reference: `secret:acme/whatsapp` -> `clawgate/acme/whatsapp`."""
    return "clawgate/" + reference.removeprefix(SECRET_PREFIX)


def resolve(value: str) -> str:
    """A literal stays as it is; a reference is read from the environment, else from Secrets Manager in AWS."""
    if not is_reference(value):
        return value
    from_env = os.environ.get(env_name(value))
    if from_env:
        register_secret(from_env)
        return from_env
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        if fallback := os.environ.get(OFFLINE_FALLBACK):  # `clawgate dev --offline` only
            return fallback
        raise MissingSecretError(value, f"set {env_name(value)}")
    from aws_lambda_powertools.utilities import parameters

    try:
        secret = parameters.get_secret(secret_id(value), max_age=CACHE_SECONDS)
    except parameters.exceptions.GetParameterError as error:
        raise MissingSecretError(value, f"Secrets Manager {secret_id(value)}: {error}") from error
    if not secret or str(secret) == PLACEHOLDER:
        raise MissingSecretError(value, f"Secrets Manager {secret_id(value)} still holds no value: paste it")
    register_secret(str(secret))
    return str(secret)
