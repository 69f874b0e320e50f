"""The shared contracts, at the bottom of the package: what the domains (`channels`, `agent`, `meta`) agree on so
that none of them imports another.

- `channels`: the channel adapter contract (parse, chunk, send, show activity, stream, fetch media), the inbound
  message types and `get_adapter`; `envelopes`: the inbound queue's message format;
- `turns`: the turn and what travels between the AgentTurn states; `tools`: the tool registry and `ToolContext`;
- ports: `ports` (queues, WebSocket `@connections`, workflows), `notify` (the operator notifier), `blobs`;
- `events`: the after-commit event hub (inbound stored, reply sent, milestone reached, budget spent);
- wire formats several domains speak: `protocol` (control-plane frames), `meta_webhooks` (Meta's webhook handshake),
  `placeholders` (how media reads as text), `transport` (the one outbound HTTP client).

Nothing here imports a layer above it (`make lint` runs the import-linter contract in pyproject.toml). The top level
stays import-free: a webhook function imports `core.envelopes` without paying for pydantic.
"""
