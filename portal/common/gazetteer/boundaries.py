"""Import the council boundary and ward boundaries from GeoJSON (ONS/OS open boundary sets).

A file holds one level: ward files name their features with properties like `WD24CD`/`WD24NM`,
district files with `LAD24CD`/`LAD24NM`; both are detected, or given. An import replaces every
boundary of its level in one transaction: a bad file changes nothing.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from portal.common import clock
from portal.common.gazetteer.geography import PolygonRings, forget_geography
from portal.common.models import Boundary
from portal.extensions import db

_PROPERTY = re.compile(r"^(WD|LAD)(\d\d)(CD|NM)$", re.IGNORECASE)
LEVEL_NAMES = {Boundary.COUNCIL: "Council area", Boundary.WARD: "Wards"}


class BoundaryImportError(ValueError):
    """A file that cannot be imported; str() says why. Nothing was changed."""


@dataclass
class BoundaryReport:
    level: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not (self.created or self.updated or self.removed):
            count = len(self.unchanged)
            return f"{LEVEL_NAMES[self.level]}: unchanged ({count} boundar{'y' if count == 1 else 'ies'})"
        return (
            f"{LEVEL_NAMES[self.level]}: {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged"
        )


@dataclass(frozen=True)
class ParsedBoundary:
    code: str
    name: str
    geometry: list[PolygonRings]


def detect_properties(properties: dict[str, object]) -> tuple[str, str | None, str]:
    """(name property, code property or None, level) from ONS-style keys like WD24NM/WD24CD."""
    found: dict[str, dict[str, str]] = {}
    for key in properties:
        match = _PROPERTY.match(key)
        if match:
            prefix = match.group(1).upper() + match.group(2)
            found.setdefault(prefix, {})[match.group(3).upper()] = key
    for prefix in sorted(found, key=lambda p: not p.startswith("WD")):
        if "NM" in found[prefix]:
            level = Boundary.WARD if prefix.startswith("WD") else Boundary.COUNCIL
            return found[prefix]["NM"], found[prefix].get("CD"), level
    raise BoundaryImportError(
        "No name property found (like WD24NM for wards or LAD24NM for a council area): "
        "give it with --name-property"
    )


def parse_geojson(
    text: str,
    *,
    level: str | None = None,
    name_property: str | None = None,
    code_property: str | None = None,
    council_code: str | None = None,
) -> tuple[str, list[ParsedBoundary]]:
    """The level and boundaries in a GeoJSON FeatureCollection; BoundaryImportError if bad."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BoundaryImportError(
            f"The file is not GeoJSON: it is not valid JSON (line {exc.lineno})"
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BoundaryImportError("The file is not a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryImportError("The file has no features")
    first = features[0].get("properties") if isinstance(features[0], dict) else None
    if not name_property:
        name_property, detected_code, detected_level = detect_properties(first or {})
        code_property = code_property or detected_code
        level = level or detected_level
    if level not in LEVEL_NAMES:
        raise BoundaryImportError("Say which level the file holds: --level council or ward")
    lad_code_property = _lad_code_property(first or {}) if level == Boundary.WARD else None
    boundaries: list[ParsedBoundary] = []
    seen: set[str] = set()
    for number, feature in enumerate(features, start=1):
        where = f"feature {number}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise BoundaryImportError(f"{where}: not a GeoJSON Feature")
        properties = feature.get("properties") or {}
        if council_code:
            own = properties.get(lad_code_property or code_property or "")
            if own is not None and str(own).strip() != council_code:
                continue
        name = str(properties.get(name_property) or "").strip()
        if not name:
            raise BoundaryImportError(f"{where}: no {name_property} property")
        code = str(properties.get(code_property) or "").strip() if code_property else ""
        code = code or name
        where = f"feature {number} ({name})"
        if len(name) > 100 or len(code) > 20:
            raise BoundaryImportError(f"{where}: name or code too long")
        if code in seen:
            raise BoundaryImportError(f"{where}: code {code} appears twice")
        seen.add(code)
        boundaries.append(ParsedBoundary(code, name, _geometry(feature.get("geometry"), where)))
    if not boundaries:
        raise BoundaryImportError(f"No features have the council code {council_code}")
    if level == Boundary.COUNCIL and len(boundaries) > 1:
        raise BoundaryImportError(
            f"The file has {len(boundaries)} council areas: choose yours with --council CODE"
        )
    return level, boundaries


def _lad_code_property(properties: dict[str, object]) -> str | None:
    return next((k for k in properties if re.match(r"^LAD\d\dCD$", k, re.IGNORECASE)), None)


def _geometry(geometry: object, where: str) -> list[PolygonRings]:
    if not isinstance(geometry, dict):
        raise BoundaryImportError(f"{where}: no geometry")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = coordinates
    else:
        raise BoundaryImportError(
            f"{where}: geometry is {kind}; only Polygon and MultiPolygon can be imported"
        )
    if not isinstance(polygons, list) or not polygons:
        raise BoundaryImportError(f"{where}: the geometry has no coordinates")
    return [_polygon(p, where) for p in polygons]


def _polygon(polygon: object, where: str) -> PolygonRings:
    if not isinstance(polygon, list) or not polygon:
        raise BoundaryImportError(f"{where}: a polygon has no rings")
    rings = []
    for ring in polygon:
        if not isinstance(ring, list) or len(ring) < 4:
            raise BoundaryImportError(f"{where}: a ring has fewer than 4 positions")
        points = []
        for position in ring:
            try:
                lon, lat = float(position[0]), float(position[1])
            except (TypeError, ValueError, IndexError):
                raise BoundaryImportError(f"{where}: a position is not a pair of numbers") from None
            if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
                raise BoundaryImportError(
                    f"{where}: coordinates are not longitude and latitude; "
                    "download the boundaries in WGS84 (EPSG:4326)"
                )
            points.append([lon, lat])
        if points[0] != points[-1]:
            raise BoundaryImportError(f"{where}: a ring does not end where it starts")
        rings.append(points)
    return rings


def import_boundaries(text: str, **options: str | None) -> BoundaryReport:
    """Replace every boundary of the file's level; commits, or raises and changes nothing."""
    level, parsed = parse_geojson(text, **options)
    report = BoundaryReport(level)
    existing = {
        b.code: b for b in db.session.scalars(select(Boundary).where(Boundary.level == level))
    }
    for item in parsed:
        row = existing.pop(item.code, None)
        if row is None:
            db.session.add(
                Boundary(level=level, code=item.code, name=item.name, geometry=item.geometry)
            )
            report.created.append(item.name)
        elif row.name == item.name and row.geometry == item.geometry:
            report.unchanged.append(item.name)
        else:
            row.name, row.geometry, row.updated_at = item.name, item.geometry, clock.utc_now()
            report.updated.append(item.name)
    for row in existing.values():
        db.session.delete(row)
        report.removed.append(row.name)
    db.session.commit()
    forget_geography()
    return report


def demo_geojson(level: str) -> str:
    """The demo council's boundaries in the ONS shape (the files in docs/samples/)."""
    from portal.common.gazetteer.geography import (
        DEMO_COUNCIL_BOX,
        DEMO_WARD_BOXES,
        box_polygon,
    )

    lad = {"LAD24CD": "E07999999", "LAD24NM": "Castlebrook"}
    if level == Boundary.COUNCIL:
        features = [(lad, box_polygon(DEMO_COUNCIL_BOX))]
    else:
        features = [
            ({"WD24CD": f"E05999{n:03d}", "WD24NM": name, **lad}, box_polygon(box))
            for n, (name, box) in enumerate(DEMO_WARD_BOXES.items(), start=1)
        ]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": properties,
                "geometry": {"type": "Polygon", "coordinates": polygon},
            }
            for properties, polygon in features
        ],
    }
    return json.dumps(collection, indent=1) + "\n"


def load_demo_boundaries() -> list[str]:
    """Import the demo council's boundaries the way a real council imports its own."""
    return [
        import_boundaries(demo_geojson(level)).summary()
        for level in (Boundary.COUNCIL, Boundary.WARD)
    ]
