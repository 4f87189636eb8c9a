"""Build services and register rows for the tests."""

from __future__ import annotations

from datetime import timedelta

from portal.common.clock import uk_today
from portal.council_services.models import Interaction, Service
from portal.council_services.services import set_initial, slugify
from portal.extensions import db


def make_service(
    name: str,
    lgsl: int | None = None,
    interactions: list[dict] | None = None,
    published: bool = True,
    **fields: object,
) -> Service:
    """Add and commit a service (call inside an app context)."""
    values: dict[str, object] = {
        "summary": f"About {name.lower()}.",
        "body": "",
        "synonyms": "",
        "topics": [],
        "life_events": [],
        "related_links": [],
        "department": "Test department",
        "review_due": uk_today() + timedelta(days=100),
    }
    values.update(fields)
    service = Service(name=name, slug=slugify(name), lgsl=lgsl, published=published, **values)
    set_initial(service)
    for spec in interactions or []:
        service.interactions.append(Interaction(**spec))
    db.session.add(service)
    db.session.commit()
    return service
