"""The council area and its wards, read from the boundaries imported into the database.

Boundaries come from GeoJSON (the ONS/OS open boundary sets) through `flask --app portal
boundaries import`; see `boundaries.py`. Until a council imports its own, a portal that is not in
production falls back to the made-up demo council (a 3 × 2 grid of rectangles), so tests and
development work without an import; a production portal with no boundaries treats every point as
inside the area and in no ward rather than refusing real addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy import select

Ring = list[list[float]]  # GeoJSON positions: [longitude, latitude]
PolygonRings = list[Ring]  # outer ring first, then holes


@dataclass(frozen=True)
class Box:
    south: float
    west: float
    north: float
    east: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude < self.north and self.west <= longitude < self.east

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.south + self.north) / 2, (self.west + self.east) / 2)


@dataclass(frozen=True)
class Area:
    """A council area or ward: polygons with holes (GeoJSON MultiPolygon coordinates)."""

    code: str
    name: str
    polygons: tuple[PolygonRings, ...]
    south: float
    west: float
    north: float
    east: float
    unbounded: bool = False

    def contains(self, latitude: float, longitude: float) -> bool:
        if self.unbounded:
            return True
        if not (self.south <= latitude <= self.north and self.west <= longitude <= self.east):
            return False
        return any(polygon_contains(p, latitude, longitude) for p in self.polygons)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.south + self.north) / 2, (self.west + self.east) / 2)


def ring_contains(ring: Ring, latitude: float, longitude: float) -> bool:
    """Even-odd ray casting on one ring of [longitude, latitude] positions."""
    x, y = longitude, latitude
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def polygon_contains(polygon: PolygonRings, latitude: float, longitude: float) -> bool:
    """Inside the outer ring and outside every hole."""
    if not polygon or not ring_contains(polygon[0], latitude, longitude):
        return False
    return not any(ring_contains(hole, latitude, longitude) for hole in polygon[1:])


def bounds(polygons: list[PolygonRings]) -> tuple[float, float, float, float]:
    """(south, west, north, east) of the outer rings."""
    lons = [p[0] for polygon in polygons for p in polygon[0]]
    lats = [p[1] for polygon in polygons for p in polygon[0]]
    return min(lats), min(lons), max(lats), max(lons)


def area_from_polygons(code: str, name: str, polygons: list[PolygonRings]) -> Area:
    south, west, north, east = bounds(polygons)
    return Area(code, name, tuple(polygons), south, west, north, east)


# ----------------------------------------------------------------- the made-up demo council

DEMO_COUNCIL_BOX = Box(south=52.9000, west=-1.6200, north=53.0200, east=-1.4000)
DEMO_WARD_NAMES = ["Northgate", "Abbey", "Castle", "Millbrook", "Riverside", "Hillside"]


def _demo_ward_boxes() -> dict[str, Box]:
    rows, cols = 2, 3
    height = (DEMO_COUNCIL_BOX.north - DEMO_COUNCIL_BOX.south) / rows
    width = (DEMO_COUNCIL_BOX.east - DEMO_COUNCIL_BOX.west) / cols
    boxes = {}
    for index, name in enumerate(DEMO_WARD_NAMES):
        row, col = divmod(index, cols)
        north = DEMO_COUNCIL_BOX.north - row * height
        west = DEMO_COUNCIL_BOX.west + col * width
        boxes[name] = Box(south=north - height, west=west, north=north, east=west + width)
    return boxes


DEMO_WARD_BOXES: dict[str, Box] = _demo_ward_boxes()


def box_polygon(box: Box) -> PolygonRings:
    """A rectangle as a closed GeoJSON ring (anticlockwise, as RFC 7946 asks)."""
    return [
        [
            [round(box.west, 6), round(box.south, 6)],
            [round(box.east, 6), round(box.south, 6)],
            [round(box.east, 6), round(box.north, 6)],
            [round(box.west, 6), round(box.north, 6)],
            [round(box.west, 6), round(box.south, 6)],
        ]
    ]


# ----------------------------------------------------------------- what the portal uses


@dataclass(frozen=True)
class Geography:
    council: Area
    wards: dict[str, Area]


_UK = Area("", "", (), 49.8, -8.7, 60.9, 1.8, unbounded=True)


def _demo_geography() -> Geography:
    wards = {
        name: area_from_polygons(name, name, [box_polygon(box)])
        for name, box in DEMO_WARD_BOXES.items()
    }
    council = area_from_polygons("demo", "Castlebrook", [box_polygon(DEMO_COUNCIL_BOX)])
    return Geography(council, wards)


def _load() -> Geography:
    from portal.common.models import Boundary
    from portal.extensions import db

    rows = db.session.scalars(select(Boundary).order_by(Boundary.name)).all()
    if not rows:
        if current_app.config["PORTAL"].is_production:
            return Geography(_UK, {})
        return _demo_geography()
    council = next(
        (
            area_from_polygons(r.code, r.name, r.geometry)
            for r in rows
            if r.level == Boundary.COUNCIL
        ),
        _UK,
    )
    wards = {
        r.name: area_from_polygons(r.code, r.name, r.geometry)
        for r in rows
        if r.level == Boundary.WARD
    }
    return Geography(council, wards)


def geography() -> Geography:
    """The council's geography, read once per request or command (see `forget_geography`)."""
    if "portal_geography" not in g:
        g.portal_geography = _load()
    return g.portal_geography


def forget_geography() -> None:
    """Drop the copy read for this request or command (after an import)."""
    g.pop("portal_geography", None)


def council_area() -> Area:
    return geography().council


def wards() -> dict[str, Area]:
    """Ward name → area, in name order."""
    return geography().wards


def ward_at(latitude: float, longitude: float) -> str | None:
    """The ward containing a point, or None outside every ward."""
    for name, area in wards().items():
        if area.contains(latitude, longitude):
            return name
    return None
