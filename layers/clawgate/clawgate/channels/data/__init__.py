"""The channels' data-access layer: what an adapter itself records (the automation disclosure a Messenger or
Instagram conversation gets once). Each module takes a `clawgate.db.Conn` (the caller owns the transaction)."""
