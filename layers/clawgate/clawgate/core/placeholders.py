"""What the model reads for a message that is not plain text: the media named in brackets, its caption, and a
voice note's transcript when a transcription provider produced one (otherwise a placeholder that says so)."""

from __future__ import annotations

LABELS = {
    "image": "Image",
    "video": "Video",
    "audio": "Audio file",
    "voice": "Voice note",
    "document": "Document",
    "sticker": "Sticker",
}


def media_text(
    kind: str,
    *,
    mime_type: str | None = None,
    filename: str | None = None,
    caption: str | None = None,
    transcript: str | None = None,
    duration_s: int | None = None,
) -> str:
    label = LABELS.get(kind, kind.capitalize())
    details = [part for part in (filename, mime_type, f"{duration_s} s" if duration_s else None) if part]
    head = f"[{label}" + (f": {', '.join(details)}" if details else "") + "]"
    if transcript:
        return f"{head} Transcript: {transcript.strip()}"
    if kind in ("voice", "audio"):
        head = head[:-1] + " — not transcribed, its content is unknown]"
    return f"{head} {caption.strip()}" if caption and caption.strip() else head


def location_text(latitude: object, longitude: object, name: str | None = None, address: str | None = None) -> str:
    place = ", ".join(part for part in (name, address) if part)
    return f"[Location: {place + ' ' if place else ''}({latitude}, {longitude})]"


def unsupported_text(kind: str, detail: str | None = None) -> str:
    return f"[Unsupported {kind} message{': ' + detail if detail else ''}]"
