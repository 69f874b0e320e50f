"""The conversations' data-access layer, one module per aggregate: people (and their channel identities). Each
takes a `clawgate.db.Conn` (the caller owns the transaction) and returns typed rows."""
