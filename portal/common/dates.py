"""Dates people type the GOV.UK way: day, month and year in three boxes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from portal.common.clock import govuk_date

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


def _missing_message(label: str, missing: list[str]) -> str:
    names = [p for p in PARTS if p in missing]
    return f"{label} must include a {' and '.join(names)}"


@dataclass
class DateRange:
    """Two optional dates typed as a filter (from and to), with GOV.UK error messages.

    `errors` holds (field link, message) pairs for the error summary; `parts` holds what was
    typed in each field's boxes, so the page shows it again.
    """

    start: date | None = None
    end: date | None = None
    parts: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def error_for(self, prefix: str) -> str | None:
        for href, message in self.errors:
            if href.startswith(f"#{prefix}-"):
                return message
        return None

    def query_args(self) -> dict[str, str]:
        """The dates as the three-box query values (for links that keep the filter)."""
        out: dict[str, str] = {}
        for prefix, typed in self.parts.items():
            for part, value in typed.items():
                if value:
                    out[f"{prefix}-{part}"] = value
        return out


def typed_date(
    values: Mapping[str, str], prefix: str, label: str
) -> tuple[dict[str, str], date | None, tuple[str, str] | None]:
    """One date filter: what was typed, the date (or None), and an error (link, message).

    Reads the three boxes `<prefix>-day`, `-month`, `-year`. A bookmark from before the boxes,
    with one `<prefix>=YYYY-MM-DD` value, still works: it is shown in the boxes.
    """
    parts = date_parts(values, prefix)
    legacy = (values.get(prefix) or "").strip()
    if not any(parts.values()) and legacy:
        # A bookmark or feed link from before the boxes: 2026-03-27 or 27/03/2026.
        iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", legacy)
        uk = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", legacy)
        if iso:
            parts = {"year": iso[1], "month": iso[2], "day": iso[3]}
        elif uk:
            parts = {"day": uk[1], "month": uk[2], "year": uk[3]}
        else:
            return parts, None, (f"#{prefix}-day", f"{label} must be a real date")
    if not any(parts.values()):
        return parts, None, None
    missing = [p for p in PARTS if not parts[p]]
    if missing:
        return parts, None, (f"#{prefix}-{missing[0]}", _missing_message(label, missing))
    if not all(parts[p].isdigit() for p in PARTS):
        return parts, None, (f"#{prefix}-day", f"{label} must be a real date")
    if len(parts["year"]) != 4:
        return parts, None, (f"#{prefix}-year", "Year must include 4 numbers")
    value = parse_parts(parts)
    if not isinstance(value, date):
        return parts, None, (f"#{prefix}-day", f"{label} must be a real date")
    return parts, value, None


def date_range(
    values: Mapping[str, str],
    start: tuple[str, str],
    end: tuple[str, str],
) -> DateRange:
    """A from–to filter: `start` and `end` are (field prefix, label) pairs.

    Errors follow the GOV.UK date input pattern: a missing part, an impossible date, and a
    'to' date before the 'from' date.
    """
    result = DateRange()
    for (prefix, label), attr in ((start, "start"), (end, "end")):
        parts, value, error = typed_date(values, prefix, label)
        result.parts[prefix] = parts
        setattr(result, attr, value)
        if error:
            result.errors.append(error)
    if result.start and result.end and result.end < result.start:
        result.errors.append(
            (
                f"#{end[0]}-day",
                f"{end[1]} must be the same as or after {govuk_date(result.start)}",
            )
        )
    return result
