"""The A–Z's public pages in the shared anonymous-visitor microcache (`portal/common/page_cache`).

A commit that changes a service, an interaction, a portal delivery or an alert empties this
worker's cached alert banners and its page caches at once (every cached page shows the banners).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from portal.common import page_cache

NAME = "council_services"


def _models() -> tuple[type, ...]:
    from portal.common.models import PortalDelivery
    from portal.council_services.models import Interaction, Service, SiteAlert

    return (Service, Interaction, PortalDelivery, SiteAlert)


def _after_change() -> None:
    current_app.extensions.get("council_services_banner_cache", {})["at"] = -1e9
    page_cache.clear_all()


page_cache.watch(NAME, _models, on_clear=_after_change)


def cached_page(render: Callable[[], str]) -> str:
    """An A–Z page from this worker's cache when the visitor is anonymous, else rendered."""
    ttl = current_app.config["PORTAL"].services_page_cache_seconds
    return page_cache.cached_page(NAME, ttl, render)


def clear() -> None:
    page_cache.clear(NAME)
