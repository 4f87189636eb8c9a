"""Places residents can visit: recycling centres, libraries, council offices and kiosks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.common.models import utcnow
from portal.extensions import db

KINDS = {
    "recycling_centre": "Household recycling centre",
    "library": "Library",
    "council_office": "Council office",
    "kiosk": "Council kiosk",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Facility(db.Model):
    """One place on the "find your nearest" list, with where it is, when it opens, what it takes.

    `opening_hours` holds seven entries, Monday first: {"opens": "09:00", "closes": "17:00"} or
    {} for a closed day. `takes` is a list of short phrases ("Garden waste", "Batteries").
    """

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(Text)
    postcode: Mapped[str] = mapped_column(String(10))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    opening_hours: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    takes: Mapped[list[str]] = mapped_column(JSON, default=list)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)
