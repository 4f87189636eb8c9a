"""What the portal itself delivers: the evidence that makes an interaction e-enabled.

Slices call `set_portal_delivery` when a thing goes live (a form is published, the repairs service
is installed) and again with live=False when it is withdrawn, in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.common.models import PortalDelivery, utcnow
from portal.common.urls import path_of
from portal.extensions import db


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
