"""An OpenClaw gateway measured like bench/runtime.py measures Clawgate (run by bench/peer/run.sh, which installs it
and enters a private network namespace first): its OpenAI-compatible `POST /v1/chat/completions`, a session per
`x-openclaw-session-key`, the agent's model a custom Anthropic-Messages provider answered at once by the same fake
model Clawgate's bench uses."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from bench.runtime import SECONDS, Call, concurrent, sequential, tree_cpu_seconds, tree_memory


def config(model_url: str, port: int, token: str) -> dict[str, object]:
    model = {"id": "instant", "name": "Instant fake", "reasoning": False, "input": ["text"],
             "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
             "contextWindow": 200_000, "maxTokens": 4096}  # fmt: skip
    return {
        "gateway": {
            "mode": "local", "port": port, "bind": "loopback", "auth": {"mode": "token", "token": token},
            "http": {"endpoints": {"chatCompletions": {"enabled": True}}},
        },
        "models": {"mode": "merge", "providers": {"fake": {
            "baseUrl": model_url, "apiKey": "bench", "api": "anthropic-messages", "models": [model]}}},
        "agents": {"defaults": {"model": {"primary": "fake/instant"}}},
    }  # fmt: skip


def chat(token: str) -> Call:
    def call(client: httpx.Client, session: str) -> None:
        body = {"model": "openclaw:main", "messages": [{"role": "user", "content": "hi"}]}
        headers = {"authorization": f"Bearer {token}", "x-openclaw-session-key": session}
        client.post("/v1/chat/completions", json=body, headers=headers).raise_for_status()

    return call


def main() -> None:
    from clawgate.local.background import free_port
    from clawgate.local.fakes import FakeAnthropic

    parser = argparse.ArgumentParser(prog="bench.peer")
    parser.add_argument("--node", required=True)
    parser.add_argument("--openclaw", required=True, help="the installed package's directory")
    parser.add_argument("--version", required=True)
    args = parser.parse_args()
    entry = Path(args.openclaw) / json.loads((Path(args.openclaw) / "package.json").read_text())["bin"]["openclaw"]
    port, token = free_port(), secrets.token_urlsafe(24)
    with FakeAnthropic() as model, tempfile.TemporaryDirectory(prefix="openclaw-bench-") as home:
        model.keep_requests = False
        (Path(home) / ".openclaw").mkdir()
        (Path(home) / ".openclaw" / "openclaw.json").write_text(json.dumps(config(model.url, port, token)))
        env = {**os.environ, "HOME": home, "PATH": f"{Path(args.node).parent}:{os.environ['PATH']}"}
        command = [args.node, str(entry), "gateway", "run", "--port", str(port), "--bind", "loopback"]
        log = (Path(home) / "gateway.log").open("wb")
        gateway = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        url, call = f"http://127.0.0.1:{port}", chat(token)
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    with httpx.Client(base_url=url, timeout=60) as client:
                        call(client, "ready")
                    break
                except httpx.HTTPError:
                    if gateway.poll() is not None or time.monotonic() > deadline:
                        print((Path(home) / "gateway.log").read_text()[-3000:])
                        raise SystemExit("bench/peer: the OpenClaw gateway did not answer") from None
                    time.sleep(1)
            root = psutil.Process(gateway.pid)
            sequential(url, call, fresh=True, count=10)  # warm
            fresh = sequential(url, call, fresh=True)
            same = sequential(url, call, fresh=False)
            cpu0 = tree_cpu_seconds(root)
            messages, elapsed = concurrent(url, call)
            cpu = (tree_cpu_seconds(root) - cpu0) / messages * 1000
            memory = tree_memory(root)
        finally:
            gateway.send_signal(signal.SIGTERM)
            gateway.wait(60)
    rows = [
        ("HTTP agent message, sequential, fresh session (median)", f"{fresh:.1f} ms"),
        ("HTTP agent message, sequential, same session (median)", f"{same:.1f} ms"),
        (f"4 concurrent clients, {SECONDS:.0f} s", f"{messages / elapsed:.2f} msg/s"),
        ("CPU per message (gateway processes)", f"{cpu:.1f} ms"),
        ("RSS / PSS summed after the load", memory),
    ]
    print(f"== the peer: OpenClaw {args.version} gateway, same fake model, loopback in a private network namespace ==")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
