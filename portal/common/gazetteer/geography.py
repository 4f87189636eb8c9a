"""The demo council's area and wards: a 3 × 2 grid of rectangles in WGS84 coordinates.

Real councils import their ward boundaries; the demo council is made up, so its geography is kept
simple and exact: every point in the council area falls in exactly one ward.
"""

from __future__ import annotations

from dataclasses import dataclass


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


COUNCIL_AREA = Box(south=52.9000, west=-1.6200, north=53.0200, east=-1.4000)

WARD_NAMES = ["Northgate", "Abbey", "Castle", "Millbrook", "Riverside", "Hillside"]


def _ward_boxes() -> dict[str, Box]:
    rows, cols = 2, 3
    height = (COUNCIL_AREA.north - COUNCIL_AREA.south) / rows
    width = (COUNCIL_AREA.east - COUNCIL_AREA.west) / cols
    boxes = {}
    for index, name in enumerate(WARD_NAMES):
        row, col = divmod(index, cols)
        north = COUNCIL_AREA.north - row * height
        west = COUNCIL_AREA.west + col * width
        boxes[name] = Box(south=north - height, west=west, north=north, east=west + width)
    return boxes


WARDS: dict[str, Box] = _ward_boxes()


def ward_at(latitude: float, longitude: float) -> str | None:
    """The ward containing a point, or None outside the council area."""
    for name, box in WARDS.items():
        if box.contains(latitude, longitude):
            return name
    return None
