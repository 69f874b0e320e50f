"""Voice notes to text, where the tenant configured a transcription endpoint (OpenAI-compatible
`POST {base_url}/audio/transcriptions`, multipart `file` + `model`). Best effort: without a transcript the model reads
a placeholder that says the content is unknown."""

from __future__ import annotations

import httpx

from clawgate import secrets
from clawgate.observability import logger
from clawgate.tenancy.model import Transcription

TIMEOUT_S = 30.0


def transcribe(config: Transcription, audio: bytes, mime_type: str | None, filename: str = "voice.ogg") -> str | None:
    headers = {"authorization": f"Bearer {secrets.resolve(config.api_key)}"} if config.api_key else {}
    try:
        answer = httpx.post(
            config.base_url.rstrip("/") + "/audio/transcriptions",
            headers=headers,
            data={"model": config.model},
            files={"file": (filename, audio, mime_type or "application/octet-stream")},
            timeout=TIMEOUT_S,
        )
        answer.raise_for_status()
        text = answer.json().get("text")
    except (httpx.HTTPError, ValueError) as error:
        logger.warning("transcription failed", extra={"error": str(error)[:200]})
        return None
    return str(text).strip() or None if text else None
