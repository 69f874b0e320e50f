"""The first gateway token of a deployed tenant. Nobody can sign in to a fresh deployment without one, and the
database is out of reach from the operator's laptop, so the tenant stack creates the secret
`clawgate/<slug>/gateway-token` holding the placeholder and its provisioner fills it, once, with a new token (only
its hash is in the database). The operator reads it with `aws secretsmanager get-secret-value` (a stack output)."""

from __future__ import annotations

from typing import Any

from clawgate.secrets import PLACEHOLDER
from clawgate.tenancy.tokens import create_token

FIRST_TOKEN_LABEL = "first sign-in (tenant stack)"


def first_token_secret(slug: str) -> str:
    return f"clawgate/{slug}/gateway-token"


def ensure_first_token(slug: str, secret_id: str, client: Any = None) -> bool:
    """True when a token was created and written; an already written secret is left alone."""
    if client is None:
        import boto3

        client = boto3.client("secretsmanager")
    if client.get_secret_value(SecretId=secret_id).get("SecretString") != PLACEHOLDER:
        return False
    client.put_secret_value(SecretId=secret_id, SecretString=create_token(slug, FIRST_TOKEN_LABEL))
    return True
