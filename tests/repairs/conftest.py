"""Fixtures for repairs tests: a tree, homes with tenants, housing staff and slots."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from portal.accounts.models import User
from portal.common.models import Address
from portal.extensions import db
from portal.repairs import calendar, services
from portal.repairs.models import Property, RepairNode, Slot, Tenancy
from portal.repairs.tree import seed_default_tree
from tests.helpers.auth import make_user


@dataclass
class World:
    app: Flask
    tenant: User
    other_tenant: User
    housing: User
    planner: User
    home_id: int
    other_home_id: int


def add_home(uprn: str, line1: str) -> Property:
    db.session.add(
        Address(
            uprn=uprn, line1=line1, town="Castlebrook", postcode="CK1 1AA",
            latitude=52.0, longitude=-1.0, ward="Castle",
        )
    )  # fmt: skip
    home = Property(uprn=uprn)
    db.session.add(home)
    db.session.flush()
    return home


def add_tenancy(home: Property, reference: str, user_id: int | None, born: date) -> Tenancy:
    tenancy = Tenancy(
        property_id=home.id, reference=reference, tenant_name="A Tenant",
        date_of_birth=born, start_date=date(2020, 1, 1), user_id=user_id,
    )  # fmt: skip
    db.session.add(tenancy)
    db.session.flush()
    return tenancy


def leaf(label: str) -> RepairNode:
    return db.session.scalar(select(RepairNode).where(RepairNode.label == label))


def working_days_ahead(n: int) -> date:
    return calendar.add_working_days(services.today(), n)


def add_slot(trade: str, day: date, period: str = "morning", capacity: int = 2) -> Slot:
    slot = Slot(trade=trade, date=day, period=period, capacity=capacity, booked=0)
    db.session.add(slot)
    db.session.flush()
    return slot


@pytest.fixture
def world(app: Flask) -> World:
    tenant = make_user(app, "tenant@example.com")
    other = make_user(app, "other@example.com")
    housing = make_user(app, "housing@example.com", roles=("housing",))
    planner = make_user(app, "planner@example.com", roles=("planning",))
    with app.app_context():
        seed_default_tree()
        home = add_home("100000000001", "1 Castle Street")
        other_home = add_home("100000000002", "2 Castle Street")
        add_tenancy(home, "RT-000001", tenant.id, date(1980, 3, 27))
        add_tenancy(other_home, "RT-000002", other.id, date(1975, 5, 5))
        db.session.commit()
        return World(app, tenant, other, housing, planner, home.id, other_home.id)


def jpeg_with_gps(size: tuple[int, int] = (800, 600), orientation: int | None = None) -> bytes:
    """A JPEG carrying EXIF with GPS tags (and optionally an orientation), made with Pillow."""
    image = Image.new("RGB", size, (200, 120, 40))
    for x in range(0, size[0], 40):
        for y in range(0, size[1], 40):
            image.putpixel((x, y), (10, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneModel"  # Model
    if orientation:
        exif[0x0112] = orientation
    gps = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0), 5: 0, 6: 11.0}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (300, 200), alpha: bool = False) -> bytes:
    image = Image.new(
        "RGBA" if alpha else "RGB", size, (0, 100, 200, 128) if alpha else (0, 100, 200)
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def today_plus(days: int) -> date:
    return services.today() + timedelta(days=days)
