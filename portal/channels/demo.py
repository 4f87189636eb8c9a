"""Demo take-up: a year of transactions over every channel, with seasons and a channel shift."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from portal.accounts.models import User, UserRole
from portal.common.models import ServiceTransaction
from portal.extensions import db

DEMO_KIND = "demo"

# (lgsl, lgil, transactions a day on average, peak month, seasonal swing 0..1, web share now)
DEMO_SERVICES = [
    (57, 2, 55, 4, 0.45, 0.62),  # council tax: bills in April
    (58, 8, 28, 4, 0.35, 0.48),
    (59, 0, 6, 4, 0.30, 0.55),
    (141, 0, 24, 1, 0.35, 0.44),  # housing repairs: winter
    (140, 0, 5, 1, 0.30, 0.35),
    (487, 3, 9, 6, 0.20, 0.70),  # planning comments
    (487, 8, 6, 6, 0.20, 0.66),
    (485, 0, 4, 5, 0.25, 0.80),
    (524, 0, 18, 1, 0.30, 0.58),  # missed bins: after Christmas
    (528, 1, 6, 4, 0.50, 0.52),  # bulky waste: spring clear-outs
    (530, 0, 9, 4, 0.80, 0.75),  # garden waste
    (533, 0, 8, 9, 0.20, 0.60),
    (474, 0, 9, 9, 0.15, 0.68),
    (279, 0, 3, 3, 0.10, 0.30),
    (587, 0, 7, 7, 0.40, 0.50),  # flytipping: summer
    (510, 0, 2, 2, 0.60, 0.40),  # allotments: late winter
    (69, 7, 6, 1, 0.15, 0.38),
    (564, 0, 3, 12, 0.60, 0.55),  # street lighting: dark evenings
    (437, 1, 4, 10, 0.20, 0.20),
]
DEMO_STAFF = [
    ("officer@castlebrook.example", "Priya Shah", "officer"),
    ("library@castlebrook.example", "Tom Bright", "library"),
    ("manager@castlebrook.example", "Morgan Hale", "manager"),
]


def _staff() -> dict[str, int]:
    ids: dict[str, int] = {}
    for email, name, role in DEMO_STAFF:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, display_name=name)
            user.role_rows = [UserRole(role=role)]
            db.session.add(user)
            db.session.flush()
        ids[role] = user.id
    return ids


def _mix(web_now: float, progress: float) -> dict[str, float]:
    """Channel shares on a day; the web share grows by ten points over the year."""
    web = web_now - 0.10 * (1 - progress)
    rest = 1 - web
    return {
        "web": web,
        "phone": rest * 0.48,
        "face_to_face": rest * 0.20,
        "kiosk": rest * 0.08,
        "kiosk_assisted": rest * 0.06,
        "email": rest * 0.11,
        "post": rest * 0.07,
    }


def demo_rows(today: datetime, staff: dict[str, int], seed: int = 157) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []
    start = (today - timedelta(days=365)).replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in range(365):
        day = start + timedelta(days=offset)
        progress = offset / 364
        weekend = day.weekday() >= 5
        for lgsl, lgil, base, peak, swing, web_now in DEMO_SERVICES:
            season = 1 + swing * math.cos(2 * math.pi * (day.month - peak) / 12)
            expected = base * season * (0.6 if weekend else 1.1)
            count = max(0, round(rng.gauss(expected, math.sqrt(expected))))
            mix = _mix(web_now, progress)
            if weekend:  # offices and the contact centre are closed at weekends
                mix["phone"] = mix["face_to_face"] = 0.0
            channels = rng.choices(list(mix), weights=list(mix.values()), k=count)
            for channel in channels:
                office = channel in ("phone", "face_to_face", "kiosk", "kiosk_assisted")
                hour = rng.randint(9, 16) if office else rng.randint(6, 22)
                staff_id = None
                if channel in ("phone", "face_to_face"):
                    staff_id = staff["officer"]
                elif channel == "kiosk_assisted":
                    staff_id = staff["library"]
                rows.append(
                    {
                        "occurred_at": day.replace(hour=hour, minute=rng.randint(0, 59)),
                        "lgsl": lgsl,
                        "lgil": lgil,
                        "channel": channel,
                        "kind": DEMO_KIND,
                        "object_ref": None,
                        "user_id": None,
                        "staff_id": staff_id,
                    }
                )
    return rows


def load_demo_take_up() -> list[str]:
    """Idempotent: a year of demo records, once."""
    if db.session.scalar(
        select(ServiceTransaction.id).where(ServiceTransaction.kind == DEMO_KIND).limit(1)
    ):
        return ["demo take-up already loaded"]
    staff = _staff()
    rows = demo_rows(datetime.now(UTC), staff)
    table = ServiceTransaction.__table__
    for i in range(0, len(rows), 5000):
        db.session.execute(insert(table), rows[i : i + 5000])
    db.session.commit()
    return [f"{len(rows)} take-up records over the last year"]
