"""Find your nearest: facilities by distance from a postcode, and the staff changes to them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from portal.common.audit import record_audit
from portal.common.gazetteer.services import (
    PostcodeError,
    addresses_for_postcode,
    distance_metres,
    normalise_postcode,
)
from portal.common.models import utcnow
from portal.extensions import db
from portal.facilities.models import KINDS, WEEKDAYS, Facility

METRES_PER_MILE = 1609.344
NEAREST_LIMIT = 5
TIME_PATTERN = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
FIELDS = ("name", "kind", "address", "postcode", "latitude", "longitude", "takes")


@dataclass
class Nearby:
    facility: Facility
    metres: float

    @property
    def miles(self) -> str:
        """The distance as people read it: "0.4 miles", "1 mile", "12.3 miles"."""
        miles = self.metres / METRES_PER_MILE
        if miles < 0.1:
            return "less than 0.1 miles"
        text = f"{miles:.1f}".removesuffix(".0")
        return f"{text} mile" if text == "1" else f"{text} miles"


def postcode_point(text: str) -> tuple[str, tuple[float, float]]:
    """The normalised postcode and the middle of its addresses; PostcodeError for bad input."""
    postcode, addresses = addresses_for_postcode(text)
    latitude = sum(a.latitude for a in addresses) / len(addresses)
    longitude = sum(a.longitude for a in addresses) / len(addresses)
    return postcode, (latitude, longitude)


def kiosk_slugs() -> set[str]:
    """The places (by slug) where the channels slice has an enrolled kiosk terminal.

    A terminal is enrolled with its library's name, and carries no location of its own: a place
    whose slug is that name's slug counts as having a council kiosk.
    """
    try:
        from portal.channels.models import KioskDevice  # noqa: PLC0415
    except ImportError:  # the channels slice is not installed
        return set()
    return set(
        db.session.scalars(select(KioskDevice.library_slug).where(KioskDevice.revoked_at.is_(None)))
    )


def live_facilities(kinds: list[str] | None = None) -> list[Facility]:
    """Places on the list, of `kinds` (all when empty); "kiosk" also finds places with an
    enrolled kiosk terminal."""
    query = select(Facility).where(Facility.retired_at.is_(None)).order_by(Facility.name)
    if kinds:
        wanted = Facility.kind.in_(kinds)
        slugs = kiosk_slugs() if "kiosk" in kinds else set()
        query = query.where(or_(wanted, Facility.slug.in_(slugs)) if slugs else wanted)
    return list(db.session.scalars(query))


def nearest(
    point: tuple[float, float], kinds: list[str] | None = None, limit: int = NEAREST_LIMIT
) -> list[Nearby]:
    """The facilities of `kinds` (all when empty) closest to `point`, nearest first (geodesic)."""
    found = [
        Nearby(f, distance_metres(point, (f.latitude, f.longitude))) for f in live_facilities(kinds)
    ]
    found.sort(key=lambda n: (n.metres, n.facility.name))
    return found[:limit]


def find_nearest(postcode_text: str, kinds: list[str]) -> tuple[str, list[Nearby]]:
    """Postcode text and chosen kinds → (postcode, nearest facilities); PostcodeError if bad."""
    postcode, point = postcode_point(postcode_text)
    return postcode, nearest(point, [k for k in kinds if k in KINDS])


# ---------------------------------------------------------------- opening hours


def clock_text(value: str) -> str:
    """ "09:00" → "9am", "13:30" → "1:30pm", "12:00" → "midday"."""
    hour, minute = (int(p) for p in value.split(":"))
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "midday"
    suffix = "am" if hour < 12 else "pm"
    hour = hour % 12 or 12
    return f"{hour}{suffix}" if minute == 0 else f"{hour}:{minute:02d}{suffix}"


def hours_rows(facility: Facility) -> list[tuple[str, str]]:
    """(weekday, "9am to 5pm" or "Closed") for the seven days, Monday first."""
    hours = list(facility.opening_hours or [])
    rows = []
    for index, day in enumerate(WEEKDAYS):
        entry = hours[index] if index < len(hours) else {}
        if entry.get("opens") and entry.get("closes"):
            rows.append((day, f"{clock_text(entry['opens'])} to {clock_text(entry['closes'])}"))
        else:
            rows.append((day, "Closed"))
    return rows


def parse_time(text: str) -> str | None:
    match = TIME_PATTERN.match((text or "").strip())
    if not match:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


# ---------------------------------------------------------------- staff changes


def form_values(facility: Facility | None) -> dict[str, Any]:
    """What the staff form shows for a facility (empty for a new one)."""
    if facility is None:
        values: dict[str, Any] = {k: "" for k in FIELDS}
        for day in WEEKDAYS:
            values[f"{day.lower()}_opens"] = values[f"{day.lower()}_closes"] = ""
        return values
    values = {
        "name": facility.name,
        "kind": facility.kind,
        "address": facility.address,
        "postcode": facility.postcode,
        "latitude": str(facility.latitude),
        "longitude": str(facility.longitude),
        "takes": "\n".join(facility.takes or []),
    }
    hours = list(facility.opening_hours or [])
    for index, day in enumerate(WEEKDAYS):
        entry = hours[index] if index < len(hours) else {}
        values[f"{day.lower()}_opens"] = entry.get("opens", "")
        values[f"{day.lower()}_closes"] = entry.get("closes", "")
    return values


def check_values(values: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Clean what staff typed; (clean values, [(field id, message)])."""
    errors: list[tuple[str, str]] = []
    clean: dict[str, Any] = {}
    clean["name"] = values.get("name", "").strip()
    if not clean["name"]:
        errors.append(("#name", "Enter the name of the place"))
    elif len(clean["name"]) > 120:
        errors.append(("#name", "The name must be 120 characters or fewer"))
    clean["kind"] = values.get("kind", "")
    if clean["kind"] not in KINDS:
        errors.append(("#kind", "Select what kind of place it is"))
    clean["address"] = values.get("address", "").strip()
    if not clean["address"]:
        errors.append(("#address", "Enter the address"))
    try:
        clean["postcode"] = normalise_postcode(values.get("postcode", ""))
    except PostcodeError as exc:
        errors.append(("#postcode", str(exc)))
    for name, low, high, label in (
        ("latitude", 49.0, 61.0, "Latitude"),
        ("longitude", -9.0, 2.5, "Longitude"),
    ):
        try:
            number = float(values.get(name, "").strip())
        except ValueError:
            errors.append((f"#{name}", f"Enter the {name} as a number, like 52.1234"))
            continue
        if not low <= number <= high:
            errors.append((f"#{name}", f"{label} must be between {low:g} and {high:g}"))
        clean[name] = number
    hours = []
    for day in WEEKDAYS:
        key = day.lower()
        opens_text = values.get(f"{key}_opens", "").strip()
        closes_text = values.get(f"{key}_closes", "").strip()
        if not opens_text and not closes_text:
            hours.append({})
            continue
        opens, closes = parse_time(opens_text), parse_time(closes_text)
        if opens is None:
            errors.append((f"#{key}_opens", f"Enter the time it opens on {day}, like 09:00"))
        if closes is None:
            errors.append((f"#{key}_closes", f"Enter the time it closes on {day}, like 17:30"))
        if opens and closes and closes <= opens:
            errors.append((f"#{key}_closes", f"The closing time on {day} must be after it opens"))
        hours.append({"opens": opens, "closes": closes} if opens and closes else {})
    clean["opening_hours"] = hours
    clean["takes"] = [
        line.strip() for line in values.get("takes", "").splitlines() if line.strip()
    ][:40]
    return clean, errors


def slug_for(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100] or "place"
    slug, n = base, 2
    while db.session.scalar(select(Facility.id).where(Facility.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def save_facility(clean: dict[str, Any], facility: Facility | None = None) -> Facility:
    """Add or change a facility and audit it (the caller commits)."""
    created = facility is None
    if facility is None:
        facility = Facility(slug=slug_for(clean["name"]))
        db.session.add(facility)
    before = {k: getattr(facility, k) for k in clean} if not created else {}
    for key, value in clean.items():
        setattr(facility, key, value)
    facility.updated_at = utcnow()
    db.session.flush()
    changed = sorted(k for k in clean if created or before.get(k) != clean[k])
    record_audit(
        "facility.created" if created else "facility.changed",
        "facility",
        facility.id,
        {"name": facility.name, "changed": changed},
    )
    return facility


def set_retired(facility: Facility, retired: bool) -> None:
    facility.retired_at = utcnow() if retired else None
    facility.updated_at = utcnow()
    record_audit(
        "facility.retired" if retired else "facility.reinstated",
        "facility",
        facility.id,
        {"name": facility.name},
    )


# The information the page gives, as portal deliveries on the register's interactions.
DELIVERIES = (
    (531, 8, "Find your nearest household recycling centre", "recycling_centre"),
    (437, 8, "Find your nearest library", "library"),
)


def sync_deliveries(live: bool = True) -> None:
    """Declare "find your nearest" as what the portal delivers for these interactions."""
    from portal.common.delivery import set_portal_delivery  # noqa: PLC0415

    for lgsl, lgil, title, kind in DELIVERIES:
        set_portal_delivery(
            "facilities", kind, lgsl, lgil, title, f"/find-your-nearest?kind={kind}", live=live
        )
