"""Dates people type the GOV.UK way: day, month and year in three boxes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

PARTS = ("day", "month", "year")
INVALID = "invalid"


def date_parts(values: Mapping[str, str], prefix: str) -> dict[str, str]:
    """What was typed in the three boxes `<prefix>-day`, `-month`, `-year` (trimmed)."""
    return {part: (values.get(f"{prefix}-{part}") or "").strip()[:4] for part in PARTS}


def parts_of(day: date | None) -> dict[str, str]:
    """The three boxes filled in with a stored date (empty when there is none)."""
    if day is None:
        return dict.fromkeys(PARTS, "")
    return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}


def parse_parts(parts: Mapping[str, str]) -> date | None | str:
    """The date typed, None when all three boxes are empty, or INVALID."""
    if not any(parts.values()):
        return None
    try:
        year = int(parts["year"])
        if year < 1000:
            return INVALID
        return date(year, int(parts["month"]), int(parts["day"]))
    except (ValueError, KeyError):
        return INVALID
