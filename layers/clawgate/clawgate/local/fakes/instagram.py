"""Fake Instagram API with Instagram Login (`graph.instagram.com`): the same Graph-shaped server as `FakeGraph`, as a
separate base, so a test sees which API a reply went to. Its Send API counts 1,000 UTF-8 bytes per text."""

from __future__ import annotations

from clawgate.local.fakes.graph import FakeGraph


class FakeInstagram(FakeGraph):
    platform = "instagram"
    text_limit = 1000
    window_subcode = 2534022

    def measure(self, text: str) -> int:
        return len(text.encode())
