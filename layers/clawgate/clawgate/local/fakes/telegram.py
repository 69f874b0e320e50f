"""Fake Telegram Bot API: `/bot<token>/<method>` (JSON, form or multipart bodies, GET or POST) and
`/file/bot<token>/<file_path>` downloads. Sent messages, photos, chat actions and webhook settings are recorded.
"""

from __future__ import annotations

import re
import secrets
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

from clawgate.local.fakes.base import FakeServer, RecordedRequest, Response, UploadedFile
from clawgate.local.fakes.graph_support import decode_value

_METHOD_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")
_FILE_PATH = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "drop_pending_updates",
        "disable_notification",
        "show_alert",
    }
)
_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
}


def telegram_error(code: int, description: str | None = None, retry_after: int | None = None) -> dict[str, Any]:
    """The Bot API error envelope; 429 carries `parameters.retry_after`."""
    if code == 429:
        retry_after = retry_after or 3
        description = description or f"Too Many Requests: retry after {retry_after}"
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description or _DESCRIPTIONS.get(code, "")}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


class TelegramError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _chat_id(value: Any) -> int | str:
    if value is None or value == "":
        raise TelegramError(400, "Bad Request: chat_id is empty")
    text = str(value)
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _chat(chat_id: int | str) -> dict[str, Any]:
    if isinstance(chat_id, str):
        numeric = -1_000_000_000_000 - zlib.crc32(chat_id.encode())
        return {"id": numeric, "type": "channel", "title": chat_id.lstrip("@"), "username": chat_id.lstrip("@")}
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Test", "username": f"user{chat_id}"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": f"Test {kind} {chat_id}"}


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (0, 0 for anything else)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 0, 0


class FakeTelegram(FakeServer):
    """Loopback Bot API. `token`, when given, is the only bot token accepted (others get 401)."""

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", token: str | None = None, bot_username: str = "clawgate_test_bot"
    ) -> None:
        super().__init__(port, host)
        self.token = token
        self.bot_username = bot_username
        self._init_state()
        self._methods: dict[str, Callable[[dict[str, Any], RecordedRequest], Any]] = {
            "getme": lambda p, r: self.bot_user(),
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "sendchataction": self._send_chat_action,
            "sendphoto": lambda p, r: self._send_media("photo", p, r),
            "senddocument": lambda p, r: self._send_media("document", p, r),
            "setwebhook": self._set_webhook,
            "getwebhookinfo": lambda p, r: self._webhook_info(),
            "deletewebhook": self._delete_webhook,
            "answercallbackquery": self._answer_callback_query,
            "getfile": self._get_file,
        }

    def _init_state(self) -> None:
        self.outbox: list[dict[str, Any]] = []
        self.chat_actions: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.pending_update_count = 0
        self.files: dict[str, tuple[str, bytes]] = {}
        self._message_ids: dict[int | str, int] = {}

    def _reset_state(self) -> None:
        self._init_state()

    # registration and reads ------------------------------------------------------------------------------------
    def add_file(self, file_id: str, content: bytes, file_path: str | None = None) -> str:
        """Register a file for getFile and /file/bot<token>/<file_path>; returns the file_path."""
        path = file_path or f"documents/file_{len(self.files)}"
        with self._lock:
            self.files[file_id] = (path, content)
        return path

    def sent_messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """sendMessage calls (params plus the `message` answered), optionally for one chat."""
        return self._sent("sendmessage", chat_id)

    def sent_photos(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """sendPhoto calls; `upload` holds the UploadedFile (`.data` is the image bytes) when one was sent."""
        return self._sent("sendphoto", chat_id)

    def _sent(self, method: str, chat_id: int | str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.outbox if m["method"] == method and (chat_id is None or m["chat_id"] == chat_id)]

    def fail_rate_limited(self, retry_after: int = 3, times: int = 1, method: str | None = None) -> None:
        self.fail_next(429, telegram_error(429, retry_after=retry_after), times, method)

    def error_body(self, status: int) -> dict[str, Any]:
        return telegram_error(status)

    def bot_user(self) -> dict[str, Any]:
        prefix = (self.token or "").split(":")[0]
        bot_id = int(prefix) if prefix.isdigit() else 7_000_000_001
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Clawgate Test",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # dispatch --------------------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Response:
        file_match = _FILE_PATH.match(request.path)
        if file_match:
            return self._download(file_match["token"], file_match["path"])
        match = _METHOD_PATH.match(request.path)
        if match is None:
            return Response.json(telegram_error(404), 404)
        if self.token is not None and match["token"] != self.token:
            return Response.json(telegram_error(401), 401)
        method = self._methods.get(match["method"].lower())
        if method is None:
            return Response.json(telegram_error(404), 404)
        params = {key: decode_value(v) if key in _JSON_FIELDS else v for key, v in request.params.items()}
        try:
            result = method(params, request)
        except TelegramError as exc:
            return Response.json(telegram_error(exc.code, exc.description), exc.code)
        if isinstance(result, Response):
            return result
        return Response.json({"ok": True, "result": result})

    def _download(self, token: str, file_path: str) -> Response:
        if self.token is not None and token != self.token:
            return Response.json(telegram_error(401), 401)
        with self._lock:
            content = next((data for path, data in self.files.values() if path == file_path), None)
        if content is None:
            return Response.json(telegram_error(404), 404)
        return Response(200, content, {"content-type": "application/octet-stream"})

    # methods ---------------------------------------------------------------------------------------------------
    def _new_message(self, chat_id: int | str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            message_id = self._message_ids.get(chat_id, 0) + 1
            self._message_ids[chat_id] = message_id
        message = {"message_id": message_id, "from": self.bot_user(), "chat": _chat(chat_id), "date": int(time.time())}
        message.update({key: value for key, value in fields.items() if value is not None})
        return message

    def _record(self, method: str, chat_id: int | str, params: dict[str, Any], **extra: Any) -> None:
        with self._lock:
            self.outbox.append({"method": method, "chat_id": chat_id, "params": params, **extra})

    @staticmethod
    def _text(params: dict[str, Any]) -> str:
        text = str(params.get("text") or "")
        if not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise TelegramError(400, "Bad Request: message is too long")
        return text

    def _send_message(self, params: dict[str, Any], request: RecordedRequest) -> dict[str, Any]:
        chat_id, text = _chat_id(params.get("chat_id")), self._text(params)
        message = self._new_message(chat_id, text=text, reply_markup=params.get("reply_markup"))
        self._record("sendmessage", chat_id, params, text=text, message=message)
        return message

    def _edit_message_text(self, params: dict[str, Any], request: RecordedRequest) -> dict[str, Any]:
        chat_id, text = _chat_id(params.get("chat_id")), self._text(params)
        message = {
            "message_id": int(params.get("message_id") or 0),
            "from": self.bot_user(),
            "chat": _chat(chat_id),
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "text": text,
        }
        self._record("editmessagetext", chat_id, params, text=text, message=message)
        return message

    def _send_chat_action(self, params: dict[str, Any], request: RecordedRequest) -> bool:
        chat_id = _chat_id(params.get("chat_id"))
        if not params.get("action"):
            raise TelegramError(400, "Bad Request: action is empty")
        with self._lock:
            self.chat_actions.append({"chat_id": chat_id, "action": params["action"]})
        return True

    def _send_media(self, kind: str, params: dict[str, Any], request: RecordedRequest) -> dict[str, Any]:
        chat_id = _chat_id(params.get("chat_id"))
        upload: UploadedFile | None = request.files.get(kind)
        reference = params.get(kind)
        if upload is None and not reference:
            raise TelegramError(400, f"Bad Request: there is no {kind} in the request")
        file_id = f"AgAC{secrets.token_urlsafe(24)}" if upload is not None else str(reference)
        size = len(upload.data) if upload is not None else 0
        if upload is not None:
            self.add_file(file_id, upload.data, f"{kind}s/file_{len(self.files)}{_suffix(upload.filename)}")
        if kind == "photo":
            width, height = image_size(upload.data) if upload is not None else (0, 0)
            media: Any = [
                {
                    "file_id": file_id,
                    "file_unique_id": file_id[-12:],
                    "width": width,
                    "height": height,
                    "file_size": size,
                }
            ]
        else:
            name = upload.filename if upload is not None else "document"
            media = {"file_id": file_id, "file_unique_id": file_id[-12:], "file_name": name, "file_size": size}
        message = self._new_message(chat_id, caption=params.get("caption"), **{kind: media})
        self._record(f"send{kind}", chat_id, params, upload=upload, message=message)
        return message

    def _set_webhook(self, params: dict[str, Any], request: RecordedRequest) -> Response:
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.match(str(secret)):
            raise TelegramError(400, "Bad Request: secret token contains unallowed characters")
        if not params.get("url"):
            return self._delete_webhook(params, request)
        with self._lock:
            self.webhook = {
                key: params[key]
                for key in (
                    "url",
                    "secret_token",
                    "allowed_updates",
                    "max_connections",
                    "drop_pending_updates",
                    "ip_address",
                )
                if key in params
            }
        return Response.json({"ok": True, "result": True, "description": "Webhook was set"})

    def _webhook_info(self) -> dict[str, Any]:
        with self._lock:
            webhook = dict(self.webhook or {})
        info: dict[str, Any] = {
            "url": webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": self.pending_update_count,
        }
        if webhook:
            info["max_connections"] = int(webhook.get("max_connections") or 40)
            info["ip_address"] = webhook.get("ip_address", "127.0.0.1")
        if webhook.get("allowed_updates") is not None:
            info["allowed_updates"] = webhook["allowed_updates"]
        return info

    def _delete_webhook(self, params: dict[str, Any], request: RecordedRequest) -> Response:
        with self._lock:
            existed, self.webhook = self.webhook is not None, None
            if params.get("drop_pending_updates") in (True, "true"):
                self.pending_update_count = 0
        description = "Webhook was deleted" if existed else "Webhook is already deleted"
        return Response.json({"ok": True, "result": True, "description": description})

    def _answer_callback_query(self, params: dict[str, Any], request: RecordedRequest) -> bool:
        if not params.get("callback_query_id"):
            message = "Bad Request: query is too old and response timeout expired or query ID is invalid"
            raise TelegramError(400, message)
        with self._lock:
            self.callback_answers.append(params)
        return True

    def _get_file(self, params: dict[str, Any], request: RecordedRequest) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        with self._lock:
            found = self.files.get(file_id)
        if found is None:
            raise TelegramError(400, "Bad Request: invalid file_id")
        path, content = found
        return {"file_id": file_id, "file_unique_id": file_id[-12:], "file_size": len(content), "file_path": path}


def _suffix(filename: str) -> str:
    match = re.search(r"\.[A-Za-z0-9]{1,5}$", filename)
    return match.group(0) if match else ""
