"""EventBridge Scheduler cron expressions, `cron(minutes hours day-of-month month day-of-week year)`, evaluated in
the tenant's timezone: the same strings drive the deployed schedules and the scheduler of `clawgate dev`.

Supported: `*`, `?`, numbers, ranges `a-b`, lists `a,b`, steps `*/n` and `a/n`, month names JAN-DEC and day names
SUN-SAT (1 = Sunday, as in EventBridge). `L`, `W` and `#` are refused. One of day-of-month and day-of-week is `?`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
MONTHS = {name: index for index, name in enumerate(MONTH_NAMES, 1)}
DAYS = {name: index for index, name in enumerate(DAY_NAMES, 1)}
_EXPRESSION = re.compile(r"^cron\((?P<body>[^)]+)\)$")
# (low, high, names) for minutes, hours, day-of-month, month, day-of-week, year
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (1, 7, DAYS), (1970, 2199, {}),
)  # fmt: skip


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: `?`
    months: frozenset[int]
    weekdays: frozenset[int] | None  # 1 = Sunday
    years: frozenset[int]

    def matches(self, local: datetime) -> bool:
        """True when `local` (a wall-clock time in the schedule's timezone) falls on a minute the cron fires."""
        weekday = local.isoweekday() % 7 + 1  # Monday → 2 … Sunday → 1
        day_ok = (self.days is None or local.day in self.days) and (self.weekdays is None or weekday in self.weekdays)
        return (
            local.minute in self.minutes
            and local.hour in self.hours
            and local.month in self.months
            and local.year in self.years
            and day_ok
        )


def _value(token: str, names: dict[str, int]) -> int:
    token = token.upper()
    if token in names:
        return names[token]
    if not token.isdigit():
        raise CronError(f"{token!r} is not a number or a name (L, W and # are not supported)")
    return int(token)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise CronError(f"bad step in {part!r}")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(base, names)
            end = high if step else start
        if not (low <= start <= high and low <= end <= high and start <= end):
            raise CronError(f"{part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step or 1))
    return frozenset(values)


def parse_cron(expression: str) -> Cron:
    match = _EXPRESSION.match(expression.strip())
    if not match:
        raise CronError(f"{expression!r} is not `cron(minutes hours day-of-month month day-of-week year)`")
    parts = match["body"].split()
    if len(parts) != 6:
        raise CronError(f"{expression!r} needs 6 fields, has {len(parts)}")
    day, weekday = parts[2], parts[4]
    if (day == "?") == (weekday == "?"):
        raise CronError(f"{expression!r}: exactly one of day-of-month and day-of-week must be `?`")
    fields = [None if part == "?" else _field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    minutes, hours, days, months, weekdays, years = fields
    assert minutes is not None and hours is not None and months is not None and years is not None
    return Cron(minutes, hours, days, months, weekdays, years)
