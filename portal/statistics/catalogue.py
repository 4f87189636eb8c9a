"""Names and departments for the services take-up is counted against.

Department breakdowns need an owner per LGSL service. The A–Z catalogue (another slice) holds the
real owners; until it registers a provider under
`app.extensions["portal_service_catalogue"]` (a callable returning `{lgsl: (label, department)}`),
this built-in mapping is used. Labels are the LGSL list's own (March 2022 export).
"""

from __future__ import annotations

from flask import current_app, has_app_context

UNKNOWN_DEPARTMENT = "Not assigned"

# LGSL → (label, department)
SERVICES: dict[int, tuple[str, str]] = {
    54: ("Business rates annual notification", "Finance"),
    56: ("Business rates account enquiries", "Finance"),
    57: ("Council tax annual notification", "Finance"),
    58: ("Council tax account enquiries", "Finance"),
    59: ("Council tax discount", "Finance"),
    69: ("Housing benefit new claim", "Finance"),
    92: ("Registering for a council property", "Housing"),
    140: ("Communal housing repairs", "Housing"),
    141: ("Housing repairs", "Housing"),
    279: ("Disabled parking permits", "Transport and highways"),
    364: ("Electoral register", "Democratic services"),
    372: ("Abandoned vehicles", "Environment"),
    412: ("Noise pollution", "Environment"),
    431: ("Pest control", "Environment"),
    437: ("Library facilities", "Communities"),
    440: ("Library loan renewals", "Communities"),
    474: ("Parking permits", "Transport and highways"),
    485: ("Residential planning applications", "Planning"),
    487: ("Full planning applications", "Planning"),
    510: ("Allotments", "Communities"),
    524: ("Household waste collection", "Environment"),
    528: ("Bulky household waste collections", "Environment"),
    530: ("Household garden waste", "Environment"),
    533: ("Recycling bags and containers", "Environment"),
    557: ("Road maintenance", "Transport and highways"),
    564: ("Street lighting", "Transport and highways"),
    582: ("Street cleaning", "Environment"),
    587: ("Flytipping", "Environment"),
}

# LGIL v1 top-level interaction types (the BVPI 157 ten) and the finer codes slices may use.
INTERACTIONS: dict[int, str] = {
    0: "Applications for service",
    1: "Booking venues, resources and courses",
    2: "Collecting revenue",
    3: "Consultation",
    4: "Paying for goods and services",
    5: "Procurement",
    6: "Providing access to community, professional or business networks",
    7: "Providing benefits and grants",
    8: "Providing information",
    9: "Regulation",
}

# Channels named as people know them: only the web and a kiosk used alone are self-service.
CHANNEL_LABELS: dict[str, str] = {
    "web": "Online self-service (website)",
    "kiosk": "Online self-service (library kiosk)",
    "kiosk_assisted": "Library kiosk with staff help",
    "phone": "Phone",
    "face_to_face": "Face to face",
    "email": "Email",
    "post": "Post",
}


# The GOV.UK service standard's channel groups, named once (portal.common.transactions).
CHANNEL_GROUP_LABELS: dict[str, str] = {
    "self_service": "Self-service digital",
    "assisted": "Assisted digital",
    "offline": "Offline",
}


def channel_group(channel: str) -> str:
    """self_service, assisted or offline: the group a channel belongs to."""
    from portal.common.transactions import ASSISTED_DIGITAL, SELF_SERVICE_DIGITAL

    if channel in SELF_SERVICE_DIGITAL:
        return "self_service"
    if channel in ASSISTED_DIGITAL:
        return "assisted"
    return "offline"


def channel_group_label(channel: str) -> str:
    return CHANNEL_GROUP_LABELS[channel_group(channel)]


def _delivered_names() -> dict[int, tuple[str, str]]:
    """Services the portal runs with no A–Z page yet, named by what the portal runs for them."""
    from sqlalchemy import select

    from portal.common.models import PortalDelivery
    from portal.extensions import db

    rows = db.session.execute(
        select(PortalDelivery.lgsl, PortalDelivery.title).order_by(PortalDelivery.id)
    ).all()
    names: dict[int, tuple[str, str]] = {}
    for lgsl, title in rows:
        if title and lgsl not in names:
            names[lgsl] = (title, UNKNOWN_DEPARTMENT)
    return names


def catalogue() -> dict[int, tuple[str, str]]:
    """LGSL → (label, department): the A–Z slice's provider when installed, else the built-in.

    A service the portal delivers that neither names is named by its delivery ("Tell us you have
    moved"), so no page shows a bare LGSL number.
    """
    if has_app_context():
        provider = current_app.extensions.get("portal_service_catalogue")
        if provider is not None:
            merged = _delivered_names()
            merged.update(SERVICES)
            merged.update(provider())
            return merged
    return SERVICES


def service_label(lgsl: int | None, services: dict[int, tuple[str, str]] | None = None) -> str:
    if not lgsl:
        return "Service not recorded"
    services = services if services is not None else catalogue()
    entry = services.get(lgsl)
    return entry[0] if entry else f"Service not in the A to Z (LGSL {lgsl})"


def department_of(lgsl: int | None, services: dict[int, tuple[str, str]] | None = None) -> str:
    services = services if services is not None else catalogue()
    entry = services.get(lgsl or 0)
    return entry[1] if entry else UNKNOWN_DEPARTMENT


def interaction_label(lgil: int) -> str:
    return INTERACTIONS.get(lgil, f"LGIL {lgil}")


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)
