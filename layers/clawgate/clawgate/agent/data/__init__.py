"""The agent's data-access layer, one module per aggregate: turns (and their tool calls), sessions (and their
transcripts), inbound events, outbound messages, usage. Each takes a `clawgate.db.Conn` (the caller owns the
transaction) and returns typed rows."""
