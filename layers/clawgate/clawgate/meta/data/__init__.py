"""Meta's data-access layer: one module per aggregate (dialogs, leads, conversions, creatives), each taking a
`clawgate.db.Conn` inside the caller's transaction and returning typed rows. Attribution, the Conversions API
sender and the mapping sync call these; the jobs' reports read through them too."""
