"""The Clawgate CDK app: a platform stack and one stack per tenant file. `python -m infra.app` synthesises it."""

import os

# jsii prints a banner on every start under Node 20; the synthesis itself is unaffected.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
