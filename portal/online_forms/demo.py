"""The demo council's forms: eight live forms on real LGSL services, and officers for each office."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User, UserRole
from portal.common.clock import uk_today
from portal.extensions import db
from portal.online_forms import services
from portal.online_forms.models import OfficeMember, OnlineForm


def q(qid: str, kind: str, label: str, **extra: object) -> dict:
    return {"id": qid, "type": kind, "label": label, **extra}


def opts(*labels: str, **gotos: str) -> list[dict]:
    out = []
    for label in labels:
        value = label.lower().replace(" ", "-").replace(",", "")
        out.append({"value": value, "label": label, "goto": gotos.get(value.replace("-", "_"))})
    return out


def page(
    pid: str, *questions: dict, title: str = "", guidance: str = "", kind: str = "questions"
) -> dict:
    return {
        "id": pid,
        "title": title,
        "guidance": guidance,
        "kind": kind,
        "questions": list(questions),
    }


ADDRESS = q("address", "address", "What is the address?", name="the address")
CONTACT = page(
    "contact",
    q("name", "text", "Full name", name="your full name"),
    q("phone", "phone", "Telephone number", optional=True, hint="We only call if we need to"),
    title="Your contact details",
)


def demo_forms() -> list[dict]:
    today = uk_today()
    return [
        {
            "slug": "report-missed-bin",
            "title": "Report a missed bin collection",
            "lgsl": 524,
            "lgil": 0,
            "office": "Waste services",
            "response_days": 2,
            "definition": {
                "intro": "Tell us about a bin we did not empty on your collection day.\n\nReport it within **2 working days** of your collection day.",
                "pages": [
                    page("where", ADDRESS),
                    page(
                        "bin",
                        q(
                            "bin",
                            "radios",
                            "Which bin was missed?",
                            name="which bin was missed",
                            options=opts("Rubbish", "Recycling", "Food waste", "Garden waste"),
                        ),
                    ),
                    page(
                        "out",
                        q(
                            "out_by_7",
                            "yes_no",
                            "Was the bin out by 7am on collection day?",
                            name="the bin was out by 7am",
                            options=[{"value": "no", "goto": "late"}],
                        ),
                    ),
                    page(
                        "when",
                        q(
                            "missed_on",
                            "date",
                            "When was the bin due to be collected?",
                            hint="The day it was due, for example 27 3 2026.",
                            name="the date of the missed collection",
                            date_range="past_days",
                            range_days=14,
                        ),
                    ),
                    page(
                        "more",
                        q(
                            "details",
                            "textarea",
                            "Anything else we should know?",
                            optional=True,
                            max_length=500,
                        ),
                    ),
                    CONTACT,
                    page(
                        "late",
                        title="We cannot come back for this bin",
                        kind="exit",
                        guidance="Bins must be at the kerbside by 7am on collection day.\n\nPut it out again on your next collection day.",
                    ),
                ],
                "what_happens_next": "We will collect the bin within 2 working days.",
            },
        },
        {
            "slug": "new-or-replacement-bin",
            "title": "Order a new or replacement bin",
            "lgsl": 533,
            "lgil": 0,
            "office": "Waste services",
            "response_days": 10,
            "definition": {
                "intro": "Order a bin if yours is lost, stolen or broken, or you have moved into a new home.\n\nA bin costs **£25**, including delivery.",
                "pages": [
                    page(
                        "which",
                        q(
                            "bin",
                            "radios",
                            "Which bin do you need?",
                            name="which bin you need",
                            options=opts("General waste", "Recycling", "Garden waste"),
                        ),
                    ),
                    page(
                        "why",
                        q(
                            "reason",
                            "radios",
                            "Why do you need a bin?",
                            name="why you need a bin",
                            options=opts("Lost or stolen", "Broken", "New home"),
                        ),
                    ),
                    page("where", ADDRESS),
                    CONTACT,
                ],
                "payment": {"kind": "fixed", "amount_pence": 2500, "question": ""},
                "what_happens_next": "We deliver your bin within 10 working days of your payment.",
            },
        },
        {
            "slug": "resident-parking-permit",
            "title": "Apply for a resident parking permit",
            "lgsl": 474,
            "lgil": 0,
            "office": "Parking services",
            "response_days": 5,
            "definition": {
                "intro": "Apply for a permit to park in your resident parking zone. A permit costs **£60** a year.",
                "pages": [
                    page(
                        "where",
                        q(
                            "address",
                            "address",
                            "What is your home address?",
                            name="your home address",
                        ),
                    ),
                    page(
                        "vehicle",
                        q(
                            "registration",
                            "vehicle_registration",
                            "What is the vehicle's registration number?",
                            name="the vehicle's registration number",
                            hint="For example, CK21 ABC",
                            max_length=10,
                        ),
                    ),
                    page(
                        "proof",
                        q(
                            "proof",
                            "file",
                            "Upload proof of your address",
                            hint="A council tax bill or tenancy agreement from the last 3 months.",
                            file_types=["pdf", "jpg", "png"],
                            max_size_mb=5,
                            max_files=2,
                        ),
                    ),
                    page(
                        "start",
                        q(
                            "starts_on",
                            "date",
                            "When should the permit start?",
                            name="the start date",
                            date_range="future",
                        ),
                    ),
                    CONTACT,
                ],
                "declaration": "I confirm the vehicle is kept at this address and the information I have given is correct.",
                "payment": {"kind": "fixed", "amount_pence": 6000, "question": ""},
                "what_happens_next": "We check your proof of address and post your permit within 5 working days.",
            },
        },
        {
            "slug": "bulky-waste-collection",
            "title": "Book a bulky waste collection",
            "lgsl": 528,
            "lgil": 1,
            "office": "Waste services",
            "response_days": 10,
            "definition": {
                "intro": "We collect large household items for **£12 per item**.",
                "pages": [
                    page(
                        "items",
                        q(
                            "items",
                            "checkboxes",
                            "Which items should we collect?",
                            name="the items to collect",
                            hint="Select all that apply",
                            options=opts(
                                "Sofa",
                                "Armchair",
                                "Mattress",
                                "Wardrobe",
                                "Fridge or freezer",
                                "Washing machine",
                            ),
                        ),
                    ),
                    page("where", ADDRESS),
                    page(
                        "when",
                        q(
                            "preferred",
                            "date",
                            "When would you like the collection?",
                            name="the collection date",
                            hint="We collect on weekdays",
                            date_range="future",
                        ),
                    ),
                    CONTACT,
                ],
                "payment": {"kind": "per_item", "amount_pence": 1200, "question": "items"},
                "what_happens_next": "We confirm your collection date by email within 2 working days.",
            },
        },
        {
            "slug": "report-fly-tipping",
            "title": "Report fly-tipping",
            "lgsl": 587,
            "lgil": 9,
            "office": "Waste services",
            "response_days": 3,
            "takes_location": True,
            "definition": {
                "intro": "Tell us about rubbish dumped on public land.",
                "pages": [
                    page(
                        "where",
                        q(
                            "location",
                            "address",
                            "Where is the fly-tipping?",
                            allow_point=True,
                            name="where the fly-tipping is",
                            hint="Find the nearest address, or give a point on a map",
                        ),
                    ),
                    page(
                        "what",
                        q(
                            "waste",
                            "checkboxes",
                            "What has been dumped?",
                            name="what has been dumped",
                            options=opts(
                                "Household rubbish",
                                "Furniture",
                                "Building rubble",
                                "Garden waste",
                                "Other",
                            ),
                        ),
                    ),
                    page(
                        "size",
                        q(
                            "size",
                            "radios",
                            "How much is there?",
                            name="how much there is",
                            options=opts(
                                "A single bag or item",
                                "A car boot load",
                                "A small van load",
                                "A lorry load",
                            ),
                        ),
                    ),
                    page(
                        "photo",
                        q(
                            "photos",
                            "file",
                            "Add photos (optional)",
                            optional=True,
                            file_types=["jpg", "png"],
                            max_size_mb=8,
                            max_files=3,
                        ),
                    ),
                    page(
                        "more",
                        q(
                            "details",
                            "textarea",
                            "Describe what you saw",
                            optional=True,
                            max_length=800,
                        ),
                    ),
                ],
                "what_happens_next": "We inspect reports within 3 working days and clear the waste.",
            },
        },
        {
            "slug": "assisted-bin-collection",
            "title": "Request an assisted bin collection",
            "lgsl": 524,
            "lgil": 0,
            "office": "Waste services",
            "response_days": 10,
            "definition": {
                "intro": "If you cannot take your bins to the kerb, our crews can collect them from your property.",
                "pages": [
                    page(
                        "helper",
                        q(
                            "helper",
                            "yes_no",
                            "Does anyone aged 16 or over live with you who can put the bins out?",
                            name="someone can put the bins out",
                            options=[{"value": "yes", "goto": "not-eligible"}],
                        ),
                    ),
                    page(
                        "why",
                        q(
                            "reason",
                            "textarea",
                            "Why can you not put your bins out?",
                            name="why you cannot put your bins out",
                            max_length=600,
                        ),
                    ),
                    page("where", ADDRESS),
                    CONTACT,
                    page(
                        "not-eligible",
                        title="You cannot get an assisted collection",
                        kind="exit",
                        guidance="Assisted collections are for households where nobody can put the bins out.",
                    ),
                ],
                "what_happens_next": "An officer may visit to agree where crews collect your bins.",
            },
        },
        {
            "slug": "i-have-moved",
            "title": "Tell us you have moved",
            "lgsl": 370,
            "lgil": 0,
            "office": "Customer services",
            "response_days": 10,
            "definition": {
                "intro": "Tell us once and we update council tax, the electoral register, waste, parking permits and libraries.",
                "pages": [
                    page(
                        "old",
                        q(
                            "old_address",
                            "address",
                            "What was your old address?",
                            name="your old address",
                        ),
                    ),
                    page(
                        "new",
                        q(
                            "new_address",
                            "address",
                            "What is your new address?",
                            name="your new address",
                        ),
                    ),
                    page(
                        "date",
                        q(
                            "moved_on",
                            "date",
                            "When did you move?",
                            name="the date you moved",
                            date_range="past",
                        ),
                    ),
                    page(
                        "you",
                        q("name", "text", "Full name", name="your full name"),
                        q("email_address", "email", "Email address", name="your email address"),
                        title="About you",
                    ),
                ],
                "departments": [
                    "Council tax",
                    "Electoral services",
                    "Waste services",
                    "Parking services",
                    "Libraries",
                ],
                "declaration": "I confirm I have moved and the information I have given is correct.",
                "what_happens_next": "Each department updates its records and you can follow each one.",
            },
        },
        {
            "slug": "library-opening-hours",
            "title": "Consultation: library opening hours",
            "lgsl": 437,
            "lgil": 3,
            "office": "Libraries",
            "response_days": 20,
            "is_consultation": True,
            "opens_on": today - timedelta(days=14),
            "closes_on": today + timedelta(days=30),
            "definition": {
                "intro": "We want to change library opening hours to suit more people. Tell us what you think.",
                "pages": [
                    page(
                        "hours",
                        q(
                            "hours",
                            "radios",
                            "Which opening hours would suit you best?",
                            name="the hours that suit you",
                            options=opts("Early mornings", "Evenings", "Weekends"),
                        ),
                    ),
                    page(
                        "sunday",
                        q(
                            "sunday",
                            "yes_no",
                            "Would you use the library on Sundays?",
                            name="you would use the library on Sundays",
                        ),
                    ),
                    page(
                        "comments",
                        q(
                            "comments",
                            "textarea",
                            "Any other comments?",
                            optional=True,
                            max_length=1000,
                        ),
                    ),
                ],
                "what_happens_next": "We publish the results on the consultations page after the consultation closes.",
            },
        },
    ]


def _user(email: str, name: str, roles: tuple[str, ...]) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, display_name=name)
        db.session.add(user)
    for role in roles:
        if role not in user.roles:
            user.role_rows.append(UserRole(role=role))
    db.session.flush()
    return user


def load_demo_forms() -> list[str]:
    """Create and publish the demo forms (once) and put the demo officer in every office."""
    offices_added = services.load_demo_offices()
    created = 0
    for spec in demo_forms():
        if db.session.scalar(select(OnlineForm.id).where(OnlineForm.slug == spec["slug"])):
            continue
        spec = dict(spec)
        form = services.new_form(**spec)
        services.publish(form)
        created += 1
    _user("editor@castlebrook.example", "Erin Editor", ("editor",))
    officer = _user("officer@castlebrook.example", "Oliver Officer", ("officer",))
    offices = services.office_names()
    for office in offices:
        exists = db.session.scalar(
            select(OfficeMember.id).where(
                OfficeMember.user_id == officer.id, OfficeMember.office == office
            )
        )
        if not exists:
            db.session.add(OfficeMember(user_id=officer.id, office=office))
    db.session.commit()
    return [
        f"{offices_added} offices added",
        f"{created} forms published",
        f"officer@castlebrook.example works in {len(offices)} offices",
    ]
