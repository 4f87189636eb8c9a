"""The demo council's A–Z: a unitary council's services on real LGSL numbers, with their register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from portal.accounts.models import User, UserRole
from portal.common.clock import uk_today
from portal.council_services.models import (
    Bvpi157Snapshot,
    Bvpi157Target,
    Interaction,
    Service,
)
from portal.council_services.services import set_initial, slugify
from portal.extensions import db

DATA = Path(__file__).resolve().parent.parent / "data" / "council_services_demo.txt"

TOPIC_CODES = {
    "bins": "bins-and-recycling",
    "tax": "council-tax-and-benefits",
    "housing": "housing",
    "planning": "planning-and-building",
    "roads": "roads-parking-and-transport",
    "leisure": "libraries-leisure-and-culture",
    "bdm": "births-deaths-and-marriages",
    "business": "business-and-licensing",
    "schools": "schools-and-education",
    "care": "care-and-health",
    "env": "environment-and-community-safety",
    "council": "council-and-democracy",
}
DEPARTMENTS = {
    "ENV": ("Environment and Waste", "01632 960101", "waste@castlebrook.example"),
    "REV": ("Revenues and Benefits", "01632 960102", "revenues@castlebrook.example"),
    "HOU": ("Housing", "01632 960103", "housing@castlebrook.example"),
    "PLN": ("Planning and Regeneration", "01632 960104", "planning@castlebrook.example"),
    "HWY": ("Highways and Transport", "01632 960105", "highways@castlebrook.example"),
    "LIB": ("Libraries, Leisure and Culture", "01632 960106", "libraries@castlebrook.example"),
    "REG": (
        "Registration and Bereavement Services",
        "01632 960107",
        "register.office@castlebrook.example",
    ),
    "LIC": ("Licensing and Regulatory Services", "01632 960108", "licensing@castlebrook.example"),
    "EDU": ("Children and Education", "01632 960109", "education@castlebrook.example"),
    "ASC": ("Adult Social Care and Health", "01632 960110", "adult.care@castlebrook.example"),
    "DEM": ("Democratic and Legal Services", "01632 960111", "democratic@castlebrook.example"),
    "CSF": ("Community Safety", "01632 960112", "community.safety@castlebrook.example"),
}
CHANNELS_BY_CODE = {
    "e": ["web", "email"],
    "k": ["web", "kiosk", "mobile"],
    "p": ["phone", "face_to_face"],
}
EXCLUSIONS = {
    (
        319,
        0,
    ): "Births and Deaths Registration Act 1953: the informant must attend in person to sign the register.",
    (
        321,
        0,
    ): "Births and Deaths Registration Act 1953: the informant must attend in person to sign the register.",
    (
        1716,
        0,
    ): "Marriage Act 1949: the couple must attend the ceremony in person with two witnesses.",
    (876, 0): "Marriage Act 1949, section 27: notice must be given in person at a register office.",
    (
        852,
        6,
    ): "British Nationality Act 1981: the oath or affirmation must be made in person at a ceremony.",
    (332, 9): "Burial Act 1857: an exhumation needs a Ministry of Justice licence signed on paper.",
    (
        362,
        0,
    ): "Representation of the People Act 1983: votes are cast at a polling station or by post.",
}
ADDRESS = "Town Hall, Market Square, Castlebrook CK1 1AA"
HOURS = "Monday to Friday, 9am to 5pm"


@dataclass(frozen=True)
class DemoService:
    lgsl: int
    name: str
    topics: list[str]
    department: str
    synonyms: str
    interactions: list[tuple[int, str]]
    life_events: list[str]
    summary: str


def demo_services() -> list[DemoService]:
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lgsl, name, topics, dept, synonyms, interactions, events, summary = line.split("|")
        rows.append(
            DemoService(
                lgsl=int(lgsl),
                name=name,
                topics=[TOPIC_CODES[t] for t in topics.split(",") if t],
                department=dept,
                synonyms=synonyms,
                interactions=[(int(t[:-1]), t[-1]) for t in interactions.split()],
                life_events=[e for e in events.split(",") if e and e != "-"],
                summary=summary,
            )
        )
    return rows


def _body(item: DemoService, department: str, phone: str) -> str:
    return (
        f"## What you need\n\n"
        f"* your name, address and contact details\n"
        f"* any reference number we have given you\n\n"
        f"## Get help\n\n"
        f"Contact {department} on {phone} if you need help or cannot use the online service. "
        f"Library staff can also help you use the library kiosks.\n"
    )


def _staff_user(email: str, name: str, role: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, display_name=name)
        user.role_rows = [UserRole(role=role)]
        db.session.add(user)
        db.session.flush()
    return user


def load_demo_catalogue() -> list[str]:
    """Create the demo services that are missing (idempotent: existing LGSL numbers are left)."""
    today = uk_today()
    editor = _staff_user("editor@castlebrook.example", "Eve Editor", "editor")
    existing = set(db.session.scalars(select(Service.lgsl).where(Service.lgsl.is_not(None))))
    created = 0
    for n, item in enumerate(demo_services()):
        if item.lgsl in existing:
            continue
        department, phone, email = DEPARTMENTS[item.department]
        service = Service(
            lgsl=item.lgsl,
            name=item.name,
            slug=slugify(item.name),
            summary=item.summary,
            body=_body(item, department, phone),
            synonyms=item.synonyms,
            topics=item.topics,
            life_events=item.life_events,
            department=department,
            owner_id=editor.id,
            phone=phone,
            email=email,
            address=ADDRESS,
            opening_hours=HOURS,
            related_links=[{"text": "GOV.UK", "url": "https://www.gov.uk/"}],
            # a few pages are overdue so the "needs review" list has something to show
            review_due=today + timedelta(days=(n * 7) % 360 - (20 if n % 40 == 3 else 0)),
            last_reviewed=today - timedelta(days=30 + (n * 5) % 300),
            published=True,
        )
        if item.lgsl == 524:
            service.status_notice = (
                "Collections may run a day late this week because of the bank holiday."
            )
        set_initial(service)
        for lgil, code in item.interactions:
            interaction = Interaction(lgil=lgil, applicable=code != "a", permissible=code != "x")
            if code == "x":
                interaction.exclusion_reason = EXCLUSIONS[(item.lgsl, lgil)]
            if code in CHANNELS_BY_CODE:
                interaction.e_enabled = True
                interaction.channels = CHANNELS_BY_CODE[code]
                interaction.enabled_since = date(2004, 4, 1) + timedelta(
                    days=(item.lgsl * 37) % 600
                )
                # evidence of the council's own systems is kept outside this demo; what the
                # portal runs adds its own "do it online" links through portal deliveries
            elif code == "n":
                days = -14 if item.lgsl % 7 == 0 else 60 + (item.lgsl * 11) % 400
                interaction.target_date = today + timedelta(days=days)
            service.interactions.append(interaction)
        db.session.add(service)
        created += 1
    db.session.flush()
    owned = plan_owners(editor)
    demo_forecast_history(today)
    db.session.commit()
    return [
        f"{created} services added ({len(existing)} already there); {owned} targets given an owner"
    ]


# Named officers who own each department's work plan (departments without one: the editor).
PLAN_OFFICERS = {
    "Revenues and Benefits": ("Sam Patel", "sam.patel@castlebrook.example"),
    "Environment and Waste": ("Jo Bennett", "jo.bennett@castlebrook.example"),
    "Housing": ("Ade Okafor", ""),
    "Libraries, Leisure and Culture": ("Ruth Morgan", "ruth.morgan@castlebrook.example"),
}


def plan_owners(editor: User) -> int:
    """Give every demo interaction not yet e-enabled an owner and a target date (idempotent).

    A department's named officer owns its targets where it has one; otherwise the editor. One in
    seven targets is a fortnight overdue, so the overdue lists and reminders have something to show.
    """
    rows = db.session.execute(
        select(Service, Interaction)
        .join(Interaction)
        .where(
            Interaction.applicable.is_(True),
            Interaction.permissible.is_(True),
            Interaction.e_enabled.is_(False),
        )
    ).all()
    today = uk_today()
    changed = 0
    for service, interaction in rows:
        if interaction.target_date is None:
            lgsl = service.lgsl or service.id
            days = -14 if lgsl % 7 == 0 else 60 + (lgsl * 11) % 400
            interaction.target_date = today + timedelta(days=days)
        if interaction.owner_id is None and not interaction.owner_name:
            officer = PLAN_OFFICERS.get(service.department)
            if officer:
                interaction.owner_name, interaction.owner_email = officer
                interaction.owner_department = service.department
            else:
                interaction.owner_id = editor.id
            changed += 1
    return changed


def demo_forecast_history(today: date) -> None:
    """A target (90% by the next 31 March a year away) and a year of month-end snapshots rebuilt
    from the register's "e-enabled since" dates, when there are none yet."""
    if db.session.scalar(select(Bvpi157Target.id).limit(1)) is None:
        due = date(today.year + 1, 3, 31)
        db.session.add(Bvpi157Target(percent=90.0, due=due))
    if db.session.scalar(select(Bvpi157Snapshot.id).limit(1)) is not None:
        return
    counted = db.session.scalars(
        select(Interaction).where(
            Interaction.applicable.is_(True), Interaction.permissible.is_(True)
        )
    ).all()
    denominator = len(counted)
    first_of_month = today.replace(day=1)
    for back in range(12, 0, -1):
        month = first_of_month
        for _ in range(back):
            month = (month - timedelta(days=1)).replace(day=1)
        day = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        numerator = sum(
            1 for i in counted if i.e_enabled and i.enabled_since and i.enabled_since <= day
        )
        db.session.add(
            Bvpi157Snapshot(
                numerator=numerator,
                denominator=denominator,
                percent=round(100.0 * numerator / denominator, 1) if denominator else 0.0,
                target=90.0,
                source="demo",
                taken_at=datetime.combine(day, time(12, 0), tzinfo=UTC),
                day=day,
            )
        )
