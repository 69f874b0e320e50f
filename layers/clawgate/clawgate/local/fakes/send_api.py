"""The Messenger Platform's Send API as the fakes speak it (mixed into `FakeGraph`, and `FakeInstagram` for the
Instagram API base): `POST /{version}/{account_id}/messages` with `recipient.id`, `messaging_type` (`RESPONSE`, or
`MESSAGE_TAG` with `tag`), `message.text` or `sender_action`. Records what arrived with its bearer token; refuses
text over the platform's limit (error 100) and, for a peer whose window a test closed, anything but a `HUMAN_AGENT`
message (error 10 with the platform's subcode). Attachments registered with `add_attachment` are served, like
Meta's CDN, without a token."""

from __future__ import annotations

import secrets
import threading
from typing import Any

from clawgate.local.fakes.base import RecordedRequest, Response
from clawgate.local.fakes.graph_support import error_response

CDN_PREFIX = "/_cdn/"


class SendApiFake:
    url: str
    _lock: threading.RLock
    platform = "messenger"
    text_limit = 2000  # characters (Messenger); Instagram counts 1,000 UTF-8 bytes
    window_subcode = 2018278

    def _init_send_api(self) -> None:
        self.messages_sent: list[dict[str, Any]] = []
        self.sender_actions: list[dict[str, Any]] = []
        self.closed_windows: set[str] = set()
        self.attachments: dict[str, tuple[bytes, str]] = {}

    def measure(self, text: str) -> int:
        return len(text)

    def add_attachment(self, content: bytes, mime_type: str = "image/jpeg") -> str:
        """The URL a webhook's `attachments[].payload.url` would carry for `content`."""
        name = secrets.token_hex(8)
        with self._lock:
            self.attachments[name] = (content, mime_type)
        return f"{self.url}{CDN_PREFIX}{name}"

    def sent_to(self, peer_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages_sent if peer_id is None or m["recipient"].get("id") == peer_id]

    def _cdn(self, request: RecordedRequest) -> Response:
        found = self.attachments.get(request.path.removeprefix(CDN_PREFIX))
        return Response(200, found[0], {"content-type": found[1]}) if found else Response(404, b"Not Found")

    def _send(self, request: RecordedRequest, account_id: str, token: str) -> Response:
        body = request.json if isinstance(request.json, dict) else {}
        peer = str((body.get("recipient") or {}).get("id") or "")
        if not peer:
            return error_response(100, "(#100) The parameter recipient is required")
        if body.get("sender_action"):
            with self._lock:
                self.sender_actions.append({"account_id": account_id, "token": token, **body})
            return Response.json({"recipient_id": peer})
        text = str((body.get("message") or {}).get("text") or "")
        if self.measure(text) > self.text_limit:
            return error_response(100, f"(#100) Length of param message[text] must be less than {self.text_limit}")
        human = body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT"
        if peer in self.closed_windows and not human:
            error = {"message": "(#10) This message is sent outside of allowed window.", "type": "OAuthException",
                     "code": 10, "error_subcode": self.window_subcode, "fbtrace_id": "Afake"}  # fmt: skip
            return Response.json({"error": error}, 400)
        message_id = "m_" + secrets.token_urlsafe(24)
        with self._lock:
            self.messages_sent.append({"platform": self.platform, "account_id": account_id, "token": token,
                                       "message_id": message_id, **body})  # fmt: skip
        return Response.json({"recipient_id": peer, "message_id": message_id})
