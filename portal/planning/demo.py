"""Demo planning data: 2,400 applications over three years across every ward and status.

Written with bulk inserts so `flask --app portal demo load` stays quick; a fixed seed makes the
data the same every time, and a second run adds nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from portal.accounts.models import User
from portal.common.clock import uk_today
from portal.common.models import Address, utcnow
from portal.extensions import db
from portal.planning import services
from portal.planning.documents import PDF_TYPE, generated_key
from portal.planning.models import (
    PlanningAlert,
    PlanningApplication,
    PlanningComment,
    PlanningDocument,
    PlanningStatusEvent,
    PlanningTracker,
)

DEMO_COUNT = 2400
PROPOSALS = {
    "HOU": [
        "Single-storey rear extension",
        "Two-storey side extension",
        "Loft conversion with rear dormer",
        "Front porch",
        "Detached garage",
    ],
    "FUL": [
        "Erection of {n} dwellings with parking",
        "Change of use from shop (Class E) to dwelling",
        "Replacement shopfront",
        "Erection of a detached dwelling",
    ],
    "OUT": [
        "Outline permission for up to {n} homes with access",
        "Outline permission for a mixed-use scheme",
    ],
    "LBC": [
        "Replacement sash windows to listed building",
        "Internal alterations to listed building",
    ],
    "ADV": ["Illuminated fascia sign", "Freestanding advertisement hoarding"],
    "TPO": [
        "Crown reduction of oak protected by a tree preservation order",
        "Felling of diseased ash",
    ],
    "CLE": ["Certificate of lawfulness for proposed outbuilding"],
    "PA": [
        "Prior approval for a larger home extension",
        "Prior approval for change of use from office to flats",
    ],
}
CLASSIFICATION = {
    "HOU": "Householder developments",
    "FUL": "Minor dwellings",
    "OUT": "Major dwellings",
    "LBC": "Other",
    "ADV": "Advertisements",
    "TPO": "Trees",
    "CLE": "Other",
    "PA": "Change of use",
}
OFFICERS = [("Priya Shah", "priya.shah"), ("Tom Hughes", "tom.hughes"), ("Ana Costa", "ana.costa")]
NAMES = [
    "Mr and Mrs Patel",
    "J. Smith",
    "Castle Homes Ltd",
    "A. Nowak",
    "R. Jones",
    "Brook Estates",
]
AGENTS = [None, "Drawn Right Architects", "Plan Ahead Ltd", "K. Ellis Design"]
COMMENTS = [
    ("support", "This will improve the street and I support it."),
    ("object", "The extension would overlook our garden and block light."),
    ("object", "Parking on the road is already difficult; more homes will make it worse."),
    ("neutral", "Please make sure construction traffic avoids school times."),
]
DEMO_RESIDENTS = [
    "resident1@castlebrook.example",
    "resident2@castlebrook.example",
    "resident3@castlebrook.example",
]


def _status_for(age_days: int, rng: random.Random) -> str:
    if age_days < 10:
        return PlanningApplication.REGISTERED
    if age_days < 70:
        return rng.choice(
            [PlanningApplication.LIVE] * 8
            + [PlanningApplication.REGISTERED, PlanningApplication.INVALID]
        )
    roll = rng.random()
    if roll < 0.80:
        return PlanningApplication.DECIDED
    return rng.choice(
        [
            PlanningApplication.WITHDRAWN,
            PlanningApplication.INVALID,
            PlanningApplication.APPEAL,
            PlanningApplication.CALLED_IN,
            PlanningApplication.REFERRED_TO_SOS,
            PlanningApplication.NOT_OURS,
        ]
    )


def _residents() -> list[User]:
    users = []
    for index, email in enumerate(DEMO_RESIDENTS, start=1):
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(
                email=email, display_name=f"Demo Resident {index}", email_confirmed_at=utcnow()
            )
            db.session.add(user)
            db.session.flush()
        users.append(user)
    return users


def load_demo_planning() -> list[str]:
    existing = db.session.scalar(select(func.count()).select_from(PlanningApplication)) or 0
    if existing >= DEMO_COUNT:
        return [f"{existing} applications already present"]
    addresses = list(db.session.scalars(select(Address).order_by(Address.uprn)))
    if not addresses:
        return ["no gazetteer addresses: load the gazetteer first"]
    rng = random.Random(8008)
    today = uk_today()
    now = utcnow()
    rows = []
    for n in range(DEMO_COUNT):
        address = rng.choice(addresses)
        age = int((n / DEMO_COUNT) ** 1.0 * 3 * 365)
        received = today - timedelta(days=age)
        code = rng.choice(list(PROPOSALS))
        status = _status_for(age, rng)
        validated = received + timedelta(days=rng.randint(2, 9)) if age > 9 else None
        consultation_start = validated
        consultation_end = validated + timedelta(days=21) if validated else None
        decided = status in (PlanningApplication.DECIDED, PlanningApplication.APPEAL)
        decision_date = received + timedelta(days=rng.randint(40, 70)) if decided else None
        officer, officer_email = rng.choice(OFFICERS)
        created = datetime(received.year, received.month, received.day, 9, tzinfo=UTC)
        rows.append(
            {
                "reference": f"{received:%y}/{n + 10000:05d}/{code}",
                "slug": f"{received:%y}-{n + 10000:05d}-{code}",
                "site_address": address.single_line,
                "postcode": address.postcode,
                "uprn": address.uprn,
                "latitude": address.latitude,
                "longitude": address.longitude,
                "boundary": None,
                "ward": address.ward,
                "description": rng.choice(PROPOSALS[code]).format(n=rng.randint(2, 40)),
                "application_type": code,
                "classification": CLASSIFICATION[code],
                "status": status,
                "received_date": received,
                "validated_date": validated,
                "consultation_start": consultation_start,
                "consultation_end": consultation_end,
                "target_decision_date": received + timedelta(weeks=8),
                "decision_date": decision_date,
                "decision_notice_date": decision_date + timedelta(days=1)
                if decision_date
                else None,
                "decision": rng.choice(PlanningApplication.DECISIONS) if decided else None,
                "decision_type": rng.choice(PlanningApplication.DECISION_TYPES)
                if decided
                else None,
                "case_officer": officer,
                "case_officer_email": f"{officer_email}@castlebrook.example",
                "applicant_name": rng.choice(NAMES),
                "agent_name": rng.choice(AGENTS),
                "created_at": min(created, now),
                "updated_at": min(created + timedelta(days=age // 2), now),
            }
        )
    have = set(db.session.scalars(select(PlanningApplication.reference)))
    rows = [r for r in rows if r["reference"] not in have]
    if rows:
        db.session.execute(insert(PlanningApplication), rows)
    ids = {
        ref: i
        for ref, i in db.session.execute(
            select(PlanningApplication.reference, PlanningApplication.id)
        )
    }
    events, documents, comments = [], [], []
    residents = _residents()
    for row in rows:
        app_id = ids[row["reference"]]
        received_at = row["created_at"]
        events.append(
            {
                "application_id": app_id,
                "status": "registered",
                "note": "Received",
                "occurred_at": received_at,
            }
        )
        if row["validated_date"]:
            events.append(
                {
                    "application_id": app_id,
                    "status": "live",
                    "note": "Validated; consultation started",
                    "occurred_at": received_at + timedelta(days=5),
                }
            )
        if row["status"] not in ("registered", "live"):
            when = row["decision_date"] or (row["received_date"] + timedelta(days=30))
            note = (
                f"{row['decision']} ({row['decision_type'].lower()})" if row["decision"] else None
            )
            events.append(
                {
                    "application_id": app_id,
                    "status": row["status"],
                    "note": note,
                    "occurred_at": datetime(when.year, when.month, when.day, 12, tzinfo=UTC),
                }
            )
        documents.append(
            {
                "application_id": app_id,
                "title": "Application form",
                "document_type": "Application form",
                "document_date": row["received_date"],
                "storage_key": generated_key("application-form"),
                "content_type": PDF_TYPE,
            }
        )
        documents.append(
            {
                "application_id": app_id,
                "title": "Site location plan",
                "document_type": "Plans",
                "document_date": row["received_date"],
                "storage_key": generated_key("location-plan"),
                "content_type": PDF_TYPE,
            }
        )
        if row["decision_notice_date"]:
            documents.append(
                {
                    "application_id": app_id,
                    "title": "Decision notice",
                    "document_type": "Decision notice",
                    "document_date": row["decision_notice_date"],
                    "storage_key": generated_key("decision-notice"),
                    "content_type": PDF_TYPE,
                }
            )
        if row["consultation_start"] and rng.random() < 0.3:
            for _ in range(rng.randint(1, 3)):
                stance, text = rng.choice(COMMENTS)
                resident = rng.choice(residents)
                made = datetime.combine(
                    row["consultation_start"], datetime.min.time(), UTC
                ) + timedelta(days=rng.randint(0, 20), hours=10)
                published = made < now - timedelta(days=2)
                comments.append(
                    {
                        "application_id": app_id,
                        "user_id": resident.id,
                        "name": resident.display_name,
                        "address": rng.choice(addresses).single_line,
                        "stance": stance,
                        "text": text,
                        "state": "published" if published else "pending",
                        "created_at": min(made, now),
                        "moderated_at": made + timedelta(days=1) if published else None,
                    }
                )
    for model, batch in (
        (PlanningStatusEvent, events),
        (PlanningDocument, documents),
        (PlanningComment, comments),
    ):
        if batch:
            db.session.execute(insert(model), batch)
    alerts = _demo_alerts(residents, addresses, rng)
    services.ensure_portal_deliveries()
    db.session.commit()
    return [
        f"{len(rows)} applications, {len(documents)} documents, {len(comments)} comments, {alerts} alerts added"
    ]


def _demo_alerts(residents: list[User], addresses: list[Address], rng: random.Random) -> int:
    if db.session.scalar(select(func.count()).select_from(PlanningAlert)):
        return 0
    now = utcnow()
    specs = []
    home = addresses[10]
    specs.append(
        services.AlertArea(
            PlanningAlert.KIND_RADIUS,
            home.single_line,
            home.latitude,
            home.longitude,
            PlanningAlert.RADIUS_MEDIUM,
        )
    )
    specs.append(services.AlertArea(PlanningAlert.KIND_WARD, "Castle", ward="Castle"))
    lat, lon = addresses[200].latitude, addresses[200].longitude
    specs.append(
        services.AlertArea(
            PlanningAlert.KIND_POLYGON,
            "4 corners",
            polygon=[
                [lat - 0.005, lon - 0.008],
                [lat - 0.005, lon + 0.008],
                [lat + 0.005, lon + 0.008],
                [lat + 0.005, lon - 0.008],
            ],
        )
    )
    for _ in range(60):
        a = rng.choice(addresses)
        specs.append(
            services.AlertArea(
                PlanningAlert.KIND_RADIUS,
                a.single_line,
                a.latitude,
                a.longitude,
                rng.choice(PlanningAlert.RADII),
            )
        )
    rows = []
    for index, area in enumerate(specs):
        resident = residents[index % len(residents)]
        min_lat, max_lat, min_lon, max_lon = area.bbox()
        rows.append(
            {
                "user_id": resident.id,
                "email": resident.email,
                "kind": area.kind,
                "label": area.label,
                "latitude": area.latitude,
                "longitude": area.longitude,
                "radius_m": area.radius_m,
                "ward": area.ward,
                "polygon": area.polygon,
                "min_lat": min_lat,
                "max_lat": max_lat,
                "min_lon": min_lon,
                "max_lon": max_lon,
                "frequency": [PlanningAlert.INSTANT, PlanningAlert.DAILY, PlanningAlert.WEEKLY][
                    index % 3
                ],
                "include_comments": index % 2 == 0,
                "application_types": None,
                "token": services.new_token(),
                "active": True,
                "created_at": now,
                "confirmed_at": now,
                "last_digest_at": now,
            }
        )
    db.session.execute(insert(PlanningAlert), rows)
    first = db.session.scalar(
        select(PlanningApplication).order_by(PlanningApplication.received_date.desc())
    )
    if first:
        db.session.add(
            PlanningTracker(
                application_id=first.id,
                user_id=residents[0].id,
                email=residents[0].email,
                token=services.new_token(),
                confirmed_at=now,
            )
        )
    return len(rows)
