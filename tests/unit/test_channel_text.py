"""Reply chunking on natural boundaries and Telegram's Markdown (used only when Telegram will accept it)."""

from __future__ import annotations

import pytest
from clawgate.channels.text import chunk_text, telegram_markdown, utf16_length
from clawgate.channels.whatsapp import whatsapp_format
from clawgate.conversations.addressing import whatsapp_address


def test_short_text_is_one_chunk() -> None:
    assert chunk_text("  hello  ", 4096) == ["hello"]
    assert chunk_text("", 4096) == [] and chunk_text("   \n ", 4096) == []


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    paragraphs = [f"Paragraph {i}. " + "word " * 150 for i in range(12)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    chunks = chunk_text(text, 4096)
    assert len(chunks) > 1 and all(len(c) <= 4096 for c in chunks)
    assert all(c.startswith("Paragraph") and c.endswith("word") for c in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(text.split())  # nothing lost but whitespace


def test_a_long_paragraph_breaks_at_a_sentence_end() -> None:
    text = " ".join(f"Sentence number {i} ends here." for i in range(400))
    chunks = chunk_text(text, 1000)
    assert all(len(c) <= 1000 and c.endswith("ends here.") for c in chunks)


def test_an_unbroken_string_is_cut_hard() -> None:
    chunks = chunk_text("x" * 10_000, 4096)
    assert [len(c) for c in chunks] == [4096, 4096, 1808]


def test_telegram_chunks_are_measured_in_utf16_units() -> None:
    text = "😀" * 5000  # 10,000 UTF-16 code units
    chunks = chunk_text(text, 4096, utf16_length)
    assert all(utf16_length(c) <= 4096 for c in chunks) and "".join(chunks) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words, nothing to format", None),
        ("**Spend** today: `$120`", "*Spend* today: `$120`"),
        ("## Report\n- one\n- two", "*Report*\n• one\n• two"),
        ("see [the dashboard](https://example.com/d)", "see [the dashboard](https://example.com/d)"),
        ("```\nSELECT *\n```", "```\nSELECT *\n```"),
        ("2 * 3 = 6", None),  # a lone star would be refused by Telegram
        ("campaign_name is wrong", None),  # so would an underscore inside a word
        ("unclosed `code", None),
        ("[not a link]", None),
    ],
)
def test_telegram_markdown_only_when_safe(text: str, expected: str | None) -> None:
    assert telegram_markdown(text) == expected


def test_whatsapp_formatting_and_recipients() -> None:
    assert whatsapp_format("# Hours\n**Mon–Fri** 9–18") == "*Hours*\n*Mon–Fri* 9–18"
    # without a tenant to look the person up in: a BSUID goes by `recipient`, a phone-number peer `to` itself
    assert whatsapp_address(None, "US.13491208655302741918").fields() == {"recipient": "US.13491208655302741918"}
    assert whatsapp_address(None, "16505551234").fields() == {"to": "16505551234"}
