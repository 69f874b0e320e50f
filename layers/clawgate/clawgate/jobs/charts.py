"""The report chart: one PNG with three panels over the same days, spend (bars), leads (bars) and cost per lead
(a line, with the target CPL dashed when there is one). Drawn on jobs.canvas: no plotting library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from clawgate.jobs.canvas import Canvas, Color, text_width

WIDTH, HEIGHT = 900, 660
LEFT, RIGHT, TOP = 90, 20, 50
PANEL_H, PANEL_GAP = 150, 52
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


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _frame(canvas: Canvas, top: int, title: str, top_value: float) -> None:
    canvas.text(LEFT, top - 20, title, INK, 2)
    for fraction in (0.0, 0.5, 1.0):
        y = top + PANEL_H - int(PANEL_H * fraction)
        canvas.line(LEFT, y, WIDTH - RIGHT, y, GRID if fraction else INK)
        label = _number(top_value * fraction)
        canvas.text(LEFT - 8 - text_width(label), y - 3, label, INK)


def _x_labels(canvas: Canvas, top: int, days: list[Day], slot: float) -> None:
    every = max(1, len(days) // 10 + (1 if len(days) % 10 else 0))
    for index in range(0, len(days), every):
        label = days[index].day.strftime("%m-%d")
        x = LEFT + int(slot * index + slot / 2) - text_width(label) // 2
        canvas.text(x, top + PANEL_H + 6, label, INK)


def _bars(canvas: Canvas, top: int, values: list[float], color: Color, slot: float, top_value: float) -> None:
    width = max(int(slot * 0.7), 1)
    for index, value in enumerate(values):
        height = int(PANEL_H * value / top_value) if top_value else 0
        x = LEFT + int(slot * index + (slot - width) / 2)
        canvas.fill_rect(x, top + PANEL_H - height, width, height, color)


def _line(canvas: Canvas, top: int, values: list[float | None], slot: float, top_value: float) -> None:
    points = [
        (LEFT + int(slot * i + slot / 2), top + PANEL_H - int(PANEL_H * v / top_value))
        for i, v in enumerate(values)
        if v is not None and top_value
    ]
    for (x0, y0), (x1, y1) in pairwise(points):
        canvas.line(x0, y0, x1, y1, COLORS["cpl"], 3)
    for x, y in points:
        canvas.fill_rect(x - 3, y - 3, 7, 7, COLORS["cpl"])


def report_chart(title: str, days: list[Day], currency: str, target_cpl: float | None = None) -> bytes:
    canvas = Canvas(WIDTH, HEIGHT)
    canvas.text(LEFT, 14, title, INK, 2)
    slot = (WIDTH - RIGHT - LEFT) / max(len(days), 1)
    cpls = [d.cpl for d in days]
    panels = [
        (f"Spend, {currency}", [d.spend for d in days], "spend"),
        ("Leads", [float(d.leads) for d in days], "leads"),
        (f"Cost per lead, {currency}", [c for c in cpls if c is not None] + [target_cpl or 0.0], "cpl"),
    ]
    for index, (label, values, kind) in enumerate(panels):
        top = TOP + 20 + index * (PANEL_H + PANEL_GAP)
        top_value = max(values, default=0.0) * 1.1 or 1.0
        _frame(canvas, top, label, top_value)
        if kind == "cpl":
            if target_cpl:
                y = top + PANEL_H - int(PANEL_H * target_cpl / top_value)
                for x in range(LEFT, WIDTH - RIGHT, 12):
                    canvas.line(x, y, min(x + 6, WIDTH - RIGHT), y, COLORS["target"], 2)
            _line(canvas, top, cpls, slot, top_value)
        else:
            _bars(canvas, top, values, COLORS[kind], slot, top_value)
        _x_labels(canvas, top, days, slot)
    return canvas.png()
