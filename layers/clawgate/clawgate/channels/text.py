"""Reply text for messengers: chunking to a channel's limit on natural boundaries, and Telegram's Markdown.

Chunks break at the last paragraph break that fits, else a line break, else a sentence end, else a space, and only
as a last resort inside a word; each chunk is stripped, so none is empty or only whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Measure = Callable[[str], int]
# Where a chunk may end, best first; each pattern matches the separator that is dropped at the cut.
_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?…。])\s+"), re.compile(r"\s+"))


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def chunk_text(text: str, limit: int, measure: Measure = len) -> list[str]:
    """Split `text` into pieces of at most `limit` (as `measure` counts), on the best boundary available."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        if measure(rest) <= limit:
            chunks.append(rest)
            break
        window = _longest_prefix(rest, limit, measure)
        cut, resume = _best_cut(window)
        chunks.append(rest[:cut].rstrip())
        rest = rest[resume:].lstrip()
    return chunks


def _longest_prefix(text: str, limit: int, measure: Measure) -> str:
    """The longest prefix of `text` that measures at most `limit` (binary search: `measure` may not be `len`)."""
    low, high = 1, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def _best_cut(window: str) -> tuple[int, int]:
    """Where to end the chunk inside `window` and where the next one starts (separators are dropped)."""
    minimum = len(window) // 3  # a cut that leaves a tiny chunk is worse than the next kind of boundary
    for pattern in _BREAKS:
        matches = [m for m in pattern.finditer(window) if m.start() >= minimum]
        if matches:
            last = matches[-1]
            return last.start(), last.end()
    return len(window), len(window)


# Telegram legacy Markdown (parse_mode "Markdown"): *bold*, _italic_, `code`, ```pre```, [text](url). A message with
# an unbalanced marker is refused with 400, so a chunk is sent as Markdown only when every marker pairs up.
_FENCE = re.compile(r"```.*?```", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_LINK = re.compile(r"\[[^\[\]\n]+\]\([^()\s]+\)")
_DOUBLE_STAR = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[*-]\s+", re.MULTILINE)
_MARKERS = re.compile(r"[*_`\[\]]")


def telegram_markdown(text: str) -> str | None:
    """`text` in Telegram's legacy Markdown when that is safe, else None (send it as plain text).

    The model writes CommonMark: `**bold**` becomes `*bold*`, headings become bold lines and `*` bullets become `•`.
    """
    converted = _HEADING.sub(lambda m: f"**{m.group(1).strip()}**", text)
    converted = _BULLET.sub(lambda m: f"{m.group(1)}• ", converted)
    converted = _DOUBLE_STAR.sub(r"*\1*", converted)
    if not _MARKERS.search(converted):
        return None  # nothing to format: plain text is exact
    return converted if _balanced(converted) else None


def _balanced(text: str) -> bool:
    if text.count("```") % 2:
        return False
    outside = _FENCE.sub("", text)
    outside = _INLINE_CODE.sub("", outside)
    if "`" in outside:
        return False
    outside = _LINK.sub("", outside)
    if "[" in outside or "]" in outside:
        return False
    words = re.sub(r"(?<=\w)_(?=\w)", "", outside)  # snake_case is not italics, but Telegram would still choke
    if words != outside:
        return False
    return outside.count("*") % 2 == 0 and outside.count("_") % 2 == 0
