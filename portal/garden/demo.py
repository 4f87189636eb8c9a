"""The garden waste subscription as a live portal delivery in the demo council."""

from __future__ import annotations

from portal.extensions import db
from portal.garden.services import sync_deliveries


def load_demo_garden() -> list[str]:
    """Idempotent: declare the subscription live on LGSL 530 / LGIL 4."""
    sync_deliveries()
    db.session.commit()
    return ["garden waste subscription live"]
