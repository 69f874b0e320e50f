"""The report chart: one PNG with three panels over the same days, spend (bars), leads (bars) and cost per lead
(a line, with the target CPL dashed when there is one), drawn with Pillow in DejaVu Sans (bundled in `fonts/` with
its licence), which has every Latin, Cyrillic and Kazakh letter a tenant's name or a campaign may hold. Pillow is
imported here only, and only the jobs function ships it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import pairwise
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 900, 660
LEFT, RIGHT, TOP = 90, 20, 50
PANEL_H, PANEL_GAP = 150, 52
FONT_FILE = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"
Color = tuple[int, int, int]
INK: Color = (40, 40, 40)
GRID: Color = (225, 225, 225)
COLORS: dict[str, Color] = {
    "spend": (66, 103, 178), "leads": (46, 160, 67), "cpl": (230, 126, 34), "target": (200, 40, 40)
}  # fmt: skip


@dataclass(frozen=True)
class Day:
    day: date
    spend: float
    leads: int

    @property
    def cpl(self) -> float | None:
        return self.spend / self.leads if self.leads else None


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILE), size)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _frame(draw: ImageDraw.ImageDraw, top: int, title: str, top_value: float) -> None:
    draw.text((LEFT, top - 24), title, fill=INK, font=font(16))
    for fraction in (0.0, 0.5, 1.0):
        y = top + PANEL_H - int(PANEL_H * fraction)
        draw.line((LEFT, y, WIDTH - RIGHT, y), fill=GRID if fraction else INK)
        draw.text((LEFT - 8, y), _number(top_value * fraction), fill=INK, font=font(11), anchor="rm")


def _x_labels(draw: ImageDraw.ImageDraw, top: int, days: list[Day], slot: float) -> None:
    every = max(1, len(days) // 10 + (1 if len(days) % 10 else 0))
    for index in range(0, len(days), every):
        x = LEFT + int(slot * index + slot / 2)
        draw.text((x, top + PANEL_H + 6), days[index].day.strftime("%m-%d"), fill=INK, font=font(11), anchor="mt")


def _bars(draw: ImageDraw.ImageDraw, top: int, values: list[float], color: Color, slot: float, peak: float) -> None:
    width = max(int(slot * 0.7), 1)
    for index, value in enumerate(values):
        height = int(PANEL_H * value / peak) if peak else 0
        if height > 0:
            x = LEFT + int(slot * index + (slot - width) / 2)
            draw.rectangle((x, top + PANEL_H - height, x + width - 1, top + PANEL_H - 1), fill=color)


def _line(draw: ImageDraw.ImageDraw, top: int, values: list[float | None], slot: float, peak: float) -> None:
    points = [
        (LEFT + int(slot * i + slot / 2), top + PANEL_H - int(PANEL_H * v / peak))
        for i, v in enumerate(values)
        if v is not None and peak
    ]
    for start, end in pairwise(points):
        draw.line((*start, *end), fill=COLORS["cpl"], width=3)
    for x, y in points:
        draw.rectangle((x - 3, y - 3, x + 3, y + 3), fill=COLORS["cpl"])


def _target(draw: ImageDraw.ImageDraw, top: int, target: float, peak: float) -> None:
    y = top + PANEL_H - int(PANEL_H * target / peak)
    for x in range(LEFT, WIDTH - RIGHT, 12):
        draw.line((x, y, min(x + 6, WIDTH - RIGHT), y), fill=COLORS["target"], width=2)


def report_chart(title: str, days: list[Day], currency: str, target_cpl: float | None = None) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.text((LEFT, 12), title, fill=INK, font=font(20))
    slot = (WIDTH - RIGHT - LEFT) / max(len(days), 1)
    cpls = [d.cpl for d in days]
    panels = [
        (f"Spend, {currency}", [d.spend for d in days], "spend"),
        ("Leads", [float(d.leads) for d in days], "leads"),
        (f"Cost per lead, {currency}", [c for c in cpls if c is not None] + [target_cpl or 0.0], "cpl"),
    ]
    for index, (label, values, kind) in enumerate(panels):
        top = TOP + 20 + index * (PANEL_H + PANEL_GAP)
        peak = max(values, default=0.0) * 1.1 or 1.0
        _frame(draw, top, label, peak)
        if kind == "cpl":
            if target_cpl:
                _target(draw, top, target_cpl, peak)
            _line(draw, top, cpls, slot, peak)
        else:
            _bars(draw, top, values, COLORS[kind], slot, peak)
        _x_labels(draw, top, days, slot)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def conversations_chart(
    title: str, handoffs: list[tuple[date, int]], groups: list[tuple[str, float | None, int]], currency: str
) -> bytes:
    """The weekly report's second chart: hand-offs per day (bars), then cost per lead by direction (one horizontal
    bar each, its leads beside it)."""
    rows = max(len(groups), 1)
    height = TOP + 20 + PANEL_H + PANEL_GAP + 30 + rows * 28 + 20
    image = Image.new("RGB", (WIDTH, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.text((LEFT, 12), title, fill=INK, font=font(20))
    days = [Day(day, float(count), 0) for day, count in handoffs]
    top = TOP + 20
    peak = max((d.spend for d in days), default=0.0) * 1.1 or 1.0
    _frame(draw, top, "Hand-offs to a person per day", peak)
    slot = (WIDTH - RIGHT - LEFT) / max(len(days), 1)
    _bars(draw, top, [d.spend for d in days], COLORS["cpl"], slot, peak)
    _x_labels(draw, top, days, slot)
    top += PANEL_H + PANEL_GAP
    draw.text((LEFT, top - 24), f"Cost per lead by direction, {currency}", fill=INK, font=font(16))
    widest = max((cpl or 0.0 for _, cpl, _ in groups), default=0.0) or 1.0
    bar_left = LEFT + 180
    for index, (label, cpl, leads) in enumerate(groups):
        y = top + 10 + index * 28
        draw.text((LEFT, y + 9), label[:24], fill=INK, font=font(12), anchor="lm")
        length = int((WIDTH - RIGHT - bar_left - 160) * (cpl or 0.0) / widest)
        if length > 0:
            draw.rectangle((bar_left, y, bar_left + length, y + 18), fill=COLORS["spend"])
        text = f"{_number(cpl)} · {leads} leads" if cpl is not None else f"no leads · {leads}"
        draw.text((bar_left + length + 8, y + 9), text, fill=INK, font=font(12), anchor="lm")
    if not groups:
        draw.text((LEFT, top + 19), "No leads this week.", fill=INK, font=font(12), anchor="lm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
