"""What the portal itself delivers: the evidence that makes an interaction e-enabled.

Slices call `set_portal_delivery` when a thing goes live (a form is published, the repairs service
is installed) and again with live=False when it is withdrawn, in the same transaction.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for
from sqlalchemy import select
from werkzeug.routing import BuildError

from portal.common.models import PortalDelivery, utcnow
from portal.common.urls import path_of
from portal.extensions import db

# A top task: (label, (LGSL, LGIL) of a service interaction or a fixed page's endpoint, arguments).
TopTask = tuple[str, tuple[int, int] | str, dict]


def set_portal_delivery(
    kind: str, ref: str, lgsl: int, lgil: int, title: str, url: str, live: bool = True
) -> PortalDelivery:
    """Create or update the delivery row for (kind, ref, lgsl, lgil); the caller commits.

    `url` is stored as a path ("/forms/x"): a URL on the base URL is cut down to its path, so a
    change of PORTAL_BASE_URL never leaves stale links (show it with `urls.absolute_url`).
    """
    url = path_of(url)
    row = db.session.scalar(
        select(PortalDelivery).where(
            PortalDelivery.kind == kind,
            PortalDelivery.ref == ref,
            PortalDelivery.lgsl == lgsl,
            PortalDelivery.lgil == lgil,
        )
    )
    if row is None:
        row = PortalDelivery(
            kind=kind, ref=ref, lgsl=lgsl, lgil=lgil, title=title, url=url, live=live
        )
        db.session.add(row)
    elif row.live != live or row.title != title or row.url != url:
        row.live, row.title, row.url = live, title, url
        row.changed_at = utcnow()
    return row


def register_problem(lgsl: int, lgil: int) -> tuple[str | None, bool]:
    """Why a delivery of (LGSL, LGIL) would add nothing to BVPI 157 (None when it maps onto a
    counted register interaction), and whether staff may add the interaction to the register.

    Asked of the A–Z slice's register (`app.extensions["portal_delivery_register"]`); with no
    register installed there is nothing to check against.
    """
    register = current_app.extensions.get("portal_delivery_register")
    if register is None:
        return None, False
    problem, _, can_add = register["problem"](lgsl, lgil)
    return problem, can_add


def register_problems(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], str | None]:
    """`register_problem`'s message for many (LGSL, LGIL) pairs at once (one register read)."""
    register = current_app.extensions.get("portal_delivery_register")
    if register is None:
        return dict.fromkeys(pairs)
    return {pair: found[0] for pair, found in register["problems"](pairs).items()}


def add_to_register(lgsl: int, lgil: int, user: object = None) -> None:
    """Add (LGSL, LGIL) to the register with the staff member's consent (the caller commits)."""
    register = current_app.extensions.get("portal_delivery_register")
    if register is not None:
        register["add"](lgsl, lgil, user)


def withdraw_portal_deliveries(kind: str, ref: str) -> int:
    """Mark every delivery of one thing as no longer live; returns how many changed."""
    rows = db.session.scalars(
        select(PortalDelivery).where(
            PortalDelivery.kind == kind, PortalDelivery.ref == ref, PortalDelivery.live
        )
    ).all()
    for row in rows:
        row.live = False
        row.changed_at = utcnow()
    return len(rows)


def live_deliveries(lgsl: int) -> list[PortalDelivery]:
    """The live things the portal runs for a service, for its "do it online" buttons."""
    return list(
        db.session.scalars(
            select(PortalDelivery)
            .where(PortalDelivery.lgsl == lgsl, PortalDelivery.live)
            .order_by(PortalDelivery.lgil)
        )
    )


def delivery_path(lgsl: int, lgil: int) -> str | None:
    """The portal's own page for a live interaction (a path on this site), or None if none is live.

    Links to the portal's services (the home page's and the kiosk's top tasks) come from here, so
    they follow the register: a form renamed, withdrawn or not installed never leaves a dead link.
    """
    row = db.session.scalar(
        select(PortalDelivery)
        .where(PortalDelivery.lgsl == lgsl, PortalDelivery.lgil == lgil, PortalDelivery.live)
        .order_by(PortalDelivery.id)
        .limit(1)
    )
    if row is None:
        return None
    parts = urlsplit(row.url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _delivery_paths(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """`delivery_path` for several interactions in one query."""
    if not pairs:
        return {}
    rows = db.session.execute(
        select(PortalDelivery.lgsl, PortalDelivery.lgil, PortalDelivery.url)
        .where(PortalDelivery.live, PortalDelivery.lgsl.in_({lgsl for lgsl, _ in pairs}))
        .order_by(PortalDelivery.id.desc())
    ).all()
    paths = {}
    for lgsl, lgil, url in rows:  # newest first, so the oldest live row of each pair wins
        if (lgsl, lgil) in pairs:
            parts = urlsplit(url)
            paths[(lgsl, lgil)] = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return paths


def top_task_links(tasks: list[TopTask]) -> list[tuple[str, str]]:
    """(label, href) of each task that can be done here now; services link through the register.

    A service whose interaction is not live, or a page whose slice is not installed, is left out.
    """
    wanted = {target for _, target, _ in tasks if isinstance(target, tuple)}
    paths = _delivery_paths(wanted)
    links = []
    for label, target, args in tasks:
        if isinstance(target, tuple):
            href = paths.get(target)
        else:
            try:
                href = url_for(target, **args)
            except BuildError:
                href = None
        if href is not None:
            links.append((label, href))
    return links
