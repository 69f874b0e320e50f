"""The gateway's data-access layer: one module per aggregate it reads or writes (devices, the WebSocket frame chunks,
the operator inbox, the control UI's lists, creatives and their uploads, usage and spend). Each function takes a
`clawgate.db.Conn` (the caller owns the transaction) and returns typed rows."""
