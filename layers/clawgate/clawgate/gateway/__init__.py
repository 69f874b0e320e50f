"""The control plane: WebSocket protocol, authentication, devices."""
