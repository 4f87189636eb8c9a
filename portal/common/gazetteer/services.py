"""Gazetteer lookups, distances and the CSV importer."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import current_app
from geopy.distance import geodesic
from sqlalchemy import func, select

from portal.common.models import Address
from portal.extensions import db

POSTCODE_PATTERN = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
CSV_COLUMNS = ["uprn", "line1", "line2", "town", "postcode", "latitude", "longitude", "ward"]


class PostcodeError(ValueError):
    """A postcode that is malformed or outside the council area; str() is the user message."""


def normalise_postcode(text: str) -> str:
    """'ck12ab ' → 'CK1 2AB'; raises PostcodeError with a GOV.UK-style message."""
    compact = re.sub(r"\s+", "", (text or "").upper())
    if not compact:
        raise PostcodeError("Enter a postcode")
    match = POSTCODE_PATTERN.match(compact[:-3] + " " + compact[-3:]) if len(compact) > 3 else None
    if not match:
        raise PostcodeError("Enter a real postcode, like CK1 2AB")
    return f"{match.group(1)} {match.group(2)}"


def council_postcode_areas() -> list[str]:
    return [
        a.strip().upper() for a in current_app.config["PORTAL"].council_postcode_areas.split(",")
    ]


def addresses_for_postcode(text: str) -> tuple[str, list[Address]]:
    """The normalised postcode and its addresses; PostcodeError when none are ours."""
    postcode = normalise_postcode(text)
    area = re.match(r"[A-Z]+", postcode).group(0)  # type: ignore[union-attr]
    if area not in council_postcode_areas():
        council = current_app.config["PORTAL"].council_name
        raise PostcodeError(f"Enter a postcode in the {council} area")
    addresses = db.session.scalars(
        select(Address).where(Address.postcode == postcode).order_by(Address.line1)
    ).all()
    if not addresses:
        raise PostcodeError(
            "We could not find any addresses for that postcode. Check it and try again"
        )
    return postcode, sorted(addresses, key=_natural_key)


def _natural_key(address: Address) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", address.line1)]


def get_address(uprn: str) -> Address | None:
    if not uprn or not uprn.isdigit():
        return None
    return db.session.get(Address, uprn)


def distance_metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance between two (latitude, longitude) points in metres."""
    return float(geodesic(a, b).meters)


def address_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Address)) or 0


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def import_addresses_csv(text: str) -> ImportReport:
    """Create or update addresses from CSV with the columns in CSV_COLUMNS; bad rows by line.

    A blank ward is filled from the imported ward boundaries; a row identical to the stored
    address counts as unchanged.
    """
    from portal.common.gazetteer.geography import ward_at

    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or []) and c != "line2"]
    if missing:
        report.errors.append(f"line 1: missing columns {', '.join(missing)}")
        return report
    for row in reader:
        line = reader.line_num
        try:
            values = _parse_row(row)
        except ValueError as exc:
            report.errors.append(f"line {line}: {exc}")
            continue
        if not values["ward"]:
            values["ward"] = ward_at(values["latitude"], values["longitude"]) or ""
        existing = db.session.get(Address, values["uprn"])
        if existing and all(getattr(existing, k) == v for k, v in values.items()):
            report.unchanged += 1
        elif existing:
            for key, value in values.items():
                setattr(existing, key, value)
            report.updated += 1
        else:
            db.session.add(Address(**values))
            report.created += 1
    db.session.commit()
    return report


def _parse_row(row: dict[str, str]) -> dict[str, object]:
    uprn = (row.get("uprn") or "").strip()
    if not uprn.isdigit() or len(uprn) > 12:
        raise ValueError("UPRN must be up to 12 digits")
    try:
        postcode = normalise_postcode(row.get("postcode", ""))
    except PostcodeError as exc:
        raise ValueError(str(exc)) from None
    try:
        latitude = float(row["latitude"])
        longitude = float(row["longitude"])
    except (TypeError, ValueError):
        raise ValueError("latitude and longitude must be numbers") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError("latitude or longitude out of range")
    line1 = (row.get("line1") or "").strip()
    if not line1:
        raise ValueError("line1 is empty")
    return {
        "uprn": uprn,
        "line1": line1,
        "line2": (row.get("line2") or "").strip() or None,
        "town": (row.get("town") or "").strip(),
        "postcode": postcode,
        "latitude": latitude,
        "longitude": longitude,
        "ward": (row.get("ward") or "").strip(),
    }


def export_rows(addresses: Iterable[Address]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for a in addresses:
        writer.writerow(
            [a.uprn, a.line1, a.line2 or "", a.town, a.postcode, a.latitude, a.longitude, a.ward]
        )
    return out.getvalue()
