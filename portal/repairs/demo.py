"""Demo data for repairs: tenancies for the demo residents, the tree, slots, repairs in every status."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.common.clock import uk_date
from portal.common.models import Address, utcnow
from portal.extensions import db
from portal.repairs import calendar, services
from portal.repairs.models import TRADES, Property, Repair, RepairNode, Slot, Tenancy
from portal.repairs.tree import seed_default_tree

RESIDENTS = (
    ("resident1@castlebrook.example", "Alex Morgan", "RT-100001", date(1985, 3, 27)),
    ("resident2@castlebrook.example", "Sam Patel", "RT-100002", date(1972, 11, 5)),
    ("resident3@castlebrook.example", "Jo Williams", "RT-100003", date(1990, 6, 14)),
)
UNLINKED = (
    ("RT-100004", "Chris Evans", date(1968, 1, 9)),
    ("RT-100005", "Pat Lee", date(1999, 8, 21)),
)


def _user(email: str, name: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, display_name=name, email_confirmed_at=utcnow())
        db.session.add(user)
        db.session.flush()
    return user


def load_demo_repairs() -> list[str]:
    lines = []
    leaves = seed_default_tree()
    if leaves:
        lines.append(f"repairs tree with {leaves} problems")
    addresses = db.session.scalars(select(Address).order_by(Address.uprn).limit(5)).all()
    if len(addresses) < 5:
        return ["no gazetteer addresses: load the gazetteer first"]
    tenancies = []
    specs = [(r[2], r[1], r[3], r[0]) for r in RESIDENTS] + [(*u, None) for u in UNLINKED]
    for address, (reference, name, born, email) in zip(addresses, specs, strict=True):
        home = db.session.scalar(select(Property).where(Property.uprn == address.uprn))
        if home is None:
            home = Property(uprn=address.uprn, block_name=address.line1)
            db.session.add(home)
            db.session.flush()
        tenancy = db.session.scalar(select(Tenancy).where(Tenancy.reference == reference))
        if tenancy is None:
            tenancy = Tenancy(
                property_id=home.id,
                reference=reference,
                tenant_name=name,
                date_of_birth=born,
                start_date=date(2020, 4, 1),
            )
            db.session.add(tenancy)
            if email:
                tenancy.user_id = _user(email, name).id
                tenancy.linked_at = utcnow()
            lines.append(f"tenancy {reference} at {address.single_line}")
        tenancies.append(tenancy)
    db.session.flush()
    lines.append(_slots())
    lines.extend(_repairs(tenancies[:3]))
    services.sync_deliveries()
    db.session.commit()
    return lines


def _slots() -> str:
    start = services.today()
    created = 0
    for trade in TRADES:
        result = services.bulk_create_slots(
            trade, start, 6, {0, 1, 2, 3, 4}, ["morning", "afternoon"], 4
        )
        created += result.created
    return f"{created} appointment slots created for the next 6 weeks"


def _repairs(tenancies: list[Tenancy]) -> list[str]:
    if db.session.scalar(select(func.count(Repair.id))):
        return []
    leaves = services.all_leaves()
    by_label = {leaf.label: leaf for leaf in leaves}
    plan = [
        ("Dripping tap", Repair.REPORTED, 0),
        ("Radiator leaking", Repair.TRIAGED, 0),
        ("Socket not working", Repair.BOOKED, 1),
        ("Window will not close", Repair.IN_PROGRESS, 1),
        ("Cupboard door broken", Repair.COMPLETED, 2),
        ("Communal light not working", Repair.CANCELLED, 2),
        ("Blocked basin", Repair.REPORTED, 2),  # reopened after completion
    ]
    count = 0
    for label, status, index in plan:
        tenancy = tenancies[index]
        leaf = by_label.get(label) or leaves[count]
        repair = services.create_repair(
            services.ReportInput(
                property_id=tenancy.property_id,
                node=leaf,
                description=f"{label}. Demo report.",
                access_notes="Please knock loudly.",
                contact_preference="email",
                contact_phone=None,
            ),
            tenancy.user_id,
            [],
        )
        db.session.flush()
        if status in (Repair.TRIAGED, Repair.IN_PROGRESS, Repair.COMPLETED, Repair.CANCELLED):
            services.set_status(repair, Repair.TRIAGED, None)
        if status in (Repair.BOOKED, Repair.IN_PROGRESS):
            slot = services.next_free_slots(repair, limit=1)
            if slot:
                services.book(repair, slot[0].id, actor_id=tenancy.user_id)
        if status in (Repair.IN_PROGRESS, Repair.COMPLETED, Repair.CANCELLED):
            services.set_status(repair, status, None)
        if label == "Blocked basin":
            services.set_status(repair, Repair.COMPLETED, None)
            services.reopen(repair, "Still draining slowly.", tenancy.user_id)
        count += 1
    # An overdue one: reported long ago, target passed.
    old = db.session.scalar(select(Repair).where(Repair.status == Repair.TRIAGED))
    if old is not None:
        old.reported_at = utcnow() - timedelta(days=40)
        old.target_date = calendar.add_working_days(uk_date(old.reported_at), 20)
    return [f"{count} repairs in every status"]


def node_count() -> int:
    return db.session.scalar(select(func.count(RepairNode.id))) or 0


__all__ = ["load_demo_repairs", "Slot"]
