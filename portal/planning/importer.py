"""The LGA/esd "PlanningApplications" CSV schema: import (updating by reference) and export rows.

Coordinates come as WGS84 (GeoX = longitude, GeoY = latitude) or OSGB36 British National Grid
(GeoX = easting, GeoY = northing, EPSG:27700), converted to WGS84 with pyproj. Each bad row is
reported by its line number and the good rows are kept.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pyproj import Transformer
from sqlalchemy import select

from portal.common.clock import uk_today
from portal.common.gazetteer.geography import council_area, ward_at
from portal.extensions import db
from portal.planning import services
from portal.planning.models import LGSL_FULL_PLANNING, PlanningApplication

LGA_COLUMNS = [
    "ExtractDate",
    "PublisherURI",
    "PublisherLabel",
    "OrganisationURI",
    "OrganisationLabel",
    "CaseReference",
    "CaseURL",
    "CaseDate",
    "ServiceTypeURI",
    "ServiceTypeLabel",
    "ClassificationURI",
    "ClassificationLabel",
    "CaseText",
    "LocationText",
    "DecisionTargetDate",
    "Status",
    "CoordinateReferenceSystem",
    "GeoX",
    "GeoY",
    "GeoPointLicensingURL",
    "DecisionDate",
    "Decision",
    "DecisionType",
    "DecisionNoticeDate",
    "AppealRef",
    "AppealDecisionDate",
    "AppealDecision",
    "GeoAreaURI",
    "GeoAreaLabel",
    "GroundArea",
    "UPRN",
    "Agent",
    "PublicConsultationStartDate",
    "PublicConsultationEndDate",
    "ResponsesFor",
    "ResponsesAgainst",
]
REQUIRED = ["CaseReference", "CaseText", "LocationText"]
STATUS_FROM_LABEL = {label.lower(): key for key, label in PlanningApplication.STATUSES.items()}
POSTCODE_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})\b")


@lru_cache(maxsize=1)
def _bng_to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def osgb36_to_wgs84(easting: float, northing: float) -> tuple[float, float]:
    """British National Grid → (latitude, longitude)."""
    lon, lat = _bng_to_wgs84().transform(easting, northing)
    return lat, lon


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def parse_lga_date(text: str, column: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    for fmt in ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{column} '{text}' is not a date in the form DD/MM/YYYY")


def _point(row: dict[str, str]) -> tuple[float, float]:
    crs = (row.get("CoordinateReferenceSystem") or "").strip().upper()
    try:
        x = float((row.get("GeoX") or "").strip())
        y = float((row.get("GeoY") or "").strip())
    except ValueError:
        raise ValueError("GeoX and GeoY must be numbers") from None
    if crs == "WGS84":
        lat, lon = y, x
    elif crs in ("OSGB36", "OSGB", "EPSG:27700", "BNG"):
        if not (0 <= x <= 700_000 and 0 <= y <= 1_300_000):
            raise ValueError("GeoX/GeoY are not British National Grid eastings and northings")
        lat, lon = osgb36_to_wgs84(x, y)
    else:
        raise ValueError("CoordinateReferenceSystem must be WGS84 or OSGB36")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("coordinates are out of range")
    if not council_area().contains(lat, lon):
        raise ValueError(f"the point {lat:.5f}, {lon:.5f} is outside the council area")
    return round(lat, 6), round(lon, 6)


def _type_code(reference: str, label: str) -> str:
    suffix = reference.replace("\\", "/").rsplit("/", 1)[-1].upper()
    if suffix in PlanningApplication.TYPES:
        return suffix
    label = (label or "").lower()
    for code, text in PlanningApplication.TYPES.items():
        if text.lower() in label:
            return code
    return "FUL"


def parse_row(row: dict[str, str]) -> dict[str, Any]:
    """One CSV row → PlanningApplication column values; ValueError says what is wrong."""
    for column in REQUIRED:
        if not (row.get(column) or "").strip():
            raise ValueError(f"{column} is empty")
    reference = row["CaseReference"].strip()[:40]
    lat, lon = _point(row)
    status_text = (row.get("Status") or "").strip().lower()
    if status_text and status_text not in STATUS_FROM_LABEL:
        raise ValueError(f"Status '{row['Status']}' is not one of the schema's values")
    status = STATUS_FROM_LABEL.get(status_text, PlanningApplication.REGISTERED)
    received = parse_lga_date(row.get("CaseDate", ""), "CaseDate") or parse_lga_date(
        row.get("ExtractDate", ""), "ExtractDate"
    )
    if received is None:
        raise ValueError("CaseDate is empty")
    uprn = (row.get("UPRN") or "").strip() or None
    if uprn and (not uprn.isdigit() or len(uprn) > 12):
        raise ValueError("UPRN must be up to 12 digits")
    location = row["LocationText"].strip()
    postcode_match = POSTCODE_IN_TEXT.search(location.upper())
    return {
        "reference": reference,
        "site_address": location[:300],
        "postcode": f"{postcode_match.group(1)} {postcode_match.group(2)}"
        if postcode_match
        else None,
        "uprn": uprn,
        "latitude": lat,
        "longitude": lon,
        "ward": ward_at(lat, lon) or (row.get("GeoAreaLabel") or "").strip() or None,
        "description": row["CaseText"].strip(),
        "application_type": _type_code(reference, row.get("ServiceTypeLabel", "")),
        "classification": (row.get("ClassificationLabel") or "").strip() or None,
        "status": status,
        "received_date": received,
        "target_decision_date": parse_lga_date(
            row.get("DecisionTargetDate", ""), "DecisionTargetDate"
        ),
        "decision_date": parse_lga_date(row.get("DecisionDate", ""), "DecisionDate"),
        "decision": (row.get("Decision") or "").strip() or None,
        "decision_type": (row.get("DecisionType") or "").strip() or None,
        "decision_notice_date": parse_lga_date(
            row.get("DecisionNoticeDate", ""), "DecisionNoticeDate"
        ),
        "agent_name": (row.get("Agent") or "").strip() or None,
        "consultation_start": parse_lga_date(
            row.get("PublicConsultationStartDate", ""), "PublicConsultationStartDate"
        ),
        "consultation_end": parse_lga_date(
            row.get("PublicConsultationEndDate", ""), "PublicConsultationEndDate"
        ),
    }


def import_lga_csv(text: str) -> ImportReport:
    """Create or update applications by CaseReference; every bad row is reported by line."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append(f"line 1: missing columns {', '.join(missing)}")
        return report
    created = []
    for row in reader:
        line = reader.line_num
        try:
            values = parse_row(row)
        except ValueError as exc:
            report.errors.append(f"line {line}: {exc}")
            continue
        existing = db.session.scalar(
            select(PlanningApplication).where(PlanningApplication.reference == values["reference"])
        )
        if existing is None:
            created.append(services.create_application(values, notify=False))
            report.created += 1
            continue
        new_status = values.pop("status")
        for key, value in values.items():
            setattr(existing, key, value)
        existing.slug = PlanningApplication.slug_for(existing.reference)
        existing.updated_at = services.utcnow()
        if new_status != existing.status:
            services.change_status(
                existing, new_status, "Updated from the council's planning system"
            )
        report.updated += 1
    db.session.flush()
    if created:
        services.send_instant_alerts(created)
        services.ensure_portal_deliveries()
    db.session.commit()
    return report


def _fmt(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def lga_row(a: PlanningApplication, settings: Any, url: str) -> list[Any]:
    """One application as a row of LGA_COLUMNS."""
    return [
        uk_today().strftime("%d/%m/%Y"),
        settings.base_url,
        settings.council_name,
        settings.base_url,
        settings.council_name,
        a.reference,
        url,
        _fmt(a.received_date),
        f"http://id.esd.org.uk/service/{LGSL_FULL_PLANNING}",
        a.type_label,
        "",
        a.classification or "",
        a.description,
        a.site_address,
        _fmt(a.target_decision_date),
        a.status_label,
        "WGS84",
        a.longitude,
        a.latitude,
        "",
        _fmt(a.decision_date),
        a.decision or "",
        a.decision_type or "",
        _fmt(a.decision_notice_date),
        "",
        "",
        "",
        "",
        a.ward or "",
        "",
        a.uprn or "",
        a.agent_name or "",
        _fmt(a.consultation_start),
        _fmt(a.consultation_end),
        "",
        "",
    ]
