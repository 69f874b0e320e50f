"""The edge: where AWS event shapes stop. One module per kind of entry point turns what Lambda receives (API Gateway
HTTP and WebSocket events, SQS batches, EventBridge Pipe records) into the typed inputs the domains take, and their
answers back into what Lambda must return. `functions/<name>/handler.py` call these in a line or two."""
