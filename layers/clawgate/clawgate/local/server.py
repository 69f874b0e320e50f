"""The local runtime's ASGI app: HTTP requests become API Gateway HTTP API (2.0) events, WebSocket traffic becomes
API Gateway WebSocket events, and both are handed to the same handlers that run in Lambda."""

from __future__ import annotations

import asyncio
import hmac
import re
import time
import uuid
from collections import defaultdict
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from clawgate.core import protocol
from clawgate.db import get_pool
from clawgate.entrypoints import HTTP_ROUTES, WEBSOCKET_ROUTES
from clawgate.local.apigw import http_event, http_response, websocket_event
from clawgate.local.connections import CONNECTIONS_KEY_HEADER, CONNECTIONS_PATH
from clawgate.local.runtime import LocalRuntime
from clawgate.observability import logger
from clawgate.settings import PROJECT_ROOT

WEB_DIR = PROJECT_ROOT / "web"
GATEWAY_ERROR = {"message": "Internal Server Error"}


def starlette_path(path: str) -> str:
    """API Gateway `{proxy+}` is Starlette's `{proxy:path}`; plain `{name}` is the same in both."""
    return re.sub(r"\{(\w+)\+\}", r"{\1:path}", path)


def _http_endpoint(runtime: LocalRuntime, functions: dict[str, str], path: str) -> Any:
    async def endpoint(request: Request) -> Response:
        function = functions.get(request.method)
        if function is None:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        event = http_event(
            method=request.method,
            route_key=f"{request.method} {path}",
            path=request.url.path,
            raw_query=request.url.query,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
            path_parameters={k: str(v) for k, v in request.path_params.items()},
            source_ip=request.client.host if request.client else "127.0.0.1",
        )
        try:
            result = await run_in_threadpool(runtime.lambdas.invoke, function, event)
        except Exception:
            logger.exception("handler failed", extra={"function": function})
            return JSONResponse(GATEWAY_ERROR, status_code=500)
        response = http_response(result)
        return Response(response.body, status_code=response.status, headers=response.headers)

    return endpoint


def _websocket_endpoint(runtime: LocalRuntime) -> Any:
    async def invoke(route_key: str, connection_id: str, **kwargs: Any) -> dict[str, Any]:
        function = WEBSOCKET_ROUTES.get(route_key) or WEBSOCKET_ROUTES["$default"]
        event = websocket_event(route_key=route_key, connection_id=connection_id, **kwargs)
        result = await run_in_threadpool(runtime.lambdas.invoke, function, event)
        return result if isinstance(result, dict) else {"statusCode": 200}

    async def endpoint(socket: WebSocket) -> None:
        connection_id = uuid.uuid4().hex[:16] + "="
        source_ip = socket.client.host if socket.client else "127.0.0.1"
        headers = {k.lower(): v for k, v in socket.headers.items()}
        connected = await invoke("$connect", connection_id, headers=headers, source_ip=source_ip)
        if int(connected.get("statusCode", 200)) >= 400:
            await socket.close(code=1008)
            return
        await socket.accept()
        runtime.connections.add(connection_id, socket, asyncio.get_running_loop())
        try:
            # The first frame (the control plane's `connect`) must come within CONNECT_TIMEOUT_S.
            body = await asyncio.wait_for(socket.receive_text(), protocol.CONNECT_TIMEOUT_S)
            while True:
                result = await invoke("$default", connection_id, body=body, source_ip=source_ip)
                if result.get("body"):  # a route response, as API Gateway's two-way routes return
                    await socket.send_text(str(result["body"]))
                body = await socket.receive_text()
        except TimeoutError:
            await socket.close(code=1008, reason="no connect frame in time")
        except (WebSocketDisconnect, WebSocketDisconnected):  # the client left, or a handler closed the socket
            pass
        finally:
            runtime.connections.remove(connection_id)
            await invoke("$disconnect", connection_id, source_ip=source_ip)

    return endpoint


def _connections_endpoint(runtime: LocalRuntime, key: str) -> Any:
    """`@connections` for the worker processes: POST sends a frame, DELETE closes; 410 when the socket is gone."""

    async def endpoint(request: Request) -> Response:
        if not hmac.compare_digest(request.headers.get(CONNECTIONS_KEY_HEADER, ""), key):
            return JSONResponse({"message": "Forbidden"}, status_code=403)
        connection_id = request.path_params["connection_id"]
        if request.method == "DELETE":
            await run_in_threadpool(runtime.connections.delete, connection_id)
            return Response(status_code=204)
        data = (await request.body()).decode("utf-8", errors="replace")
        posted = await run_in_threadpool(runtime.connections.post, connection_id, data)
        return Response(status_code=200 if posted else 410)

    return endpoint


def _health(runtime: LocalRuntime) -> Any:
    def check_database() -> dict[str, Any]:
        started = time.perf_counter()
        try:
            with get_pool().connection(timeout=5) as conn:
                conn.execute("SELECT 1")
        except Exception as error:
            return {"ok": False, "error": type(error).__name__}
        return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}

    async def endpoint(_: Request) -> Response:
        database = await run_in_threadpool(check_database)
        body = {
            "status": "ok" if database["ok"] else "degraded",
            "database": database,
            "queues": runtime.queues.health(),
            "websocket_connections": runtime.connections.count(),
        }
        return JSONResponse(body, status_code=200 if database["ok"] else 503)

    return endpoint


async def _index(_: Request) -> Response:
    index = WEB_DIR / "index.html"
    if index.is_file():
        return FileResponse(index)
    return JSONResponse({"message": "the web UI is not built"}, status_code=404)


def build_app(runtime: LocalRuntime, connections_key: str | None = None) -> Starlette:
    """With `connections_key`, the app also serves `@connections` to the worker processes that hold that key."""
    by_path: dict[str, dict[str, str]] = defaultdict(dict)
    for route in HTTP_ROUTES:
        by_path[route.path][route.method] = route.function
    routes: list[Any] = [Route("/healthz", _health(runtime), methods=["GET"]), Route("/", _index, methods=["GET"])]
    routes += [
        Route(starlette_path(path), _http_endpoint(runtime, functions, path), methods=sorted(functions))
        for path, functions in by_path.items()
    ]
    routes.append(WebSocketRoute("/ws", _websocket_endpoint(runtime)))
    if connections_key:
        endpoint = _connections_endpoint(runtime, connections_key)
        routes.append(Route(CONNECTIONS_PATH + "/{connection_id}", endpoint, methods=["POST", "DELETE"]))
    routes.append(Mount("/", StaticFiles(directory=WEB_DIR, check_dir=False)))  # the web UI's other files
    return Starlette(routes=routes)
