"""Public information pages that every council site has."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, render_template, url_for
from werkzeug.routing import BuildError

from portal.common import page_cache
from portal.common.delivery import TopTask, top_task_links

bp = Blueprint("site", __name__)

# Top tasks on the home page, each either a service interaction (LGSL, LGIL) that the register
# links to the portal page delivering it, or a fixed page (endpoint, arguments). Tasks whose
# service is not live, or whose slice is not installed, are left out.
TOP_TASKS: list[TopTask] = [
    ("Pay your council tax", (57, 2), {}),
    ("Find your bin collection day", (524, 8), {}),
    ("Report a missed bin collection", (524, 0), {}),
    ("Report a housing repair", (141, 0), {}),
    ("Find a planning application", "planning.register", {}),
    ("Get planning alerts for your area", "planning.alerts", {}),
    ("Find your ward", "gazetteer.your_area", {}),
]

LIFE_EVENTS = [
    ("Moving home", "moving-home"),
    ("Having a baby", "having-a-baby"),
    ("When someone dies", "bereavement"),
    ("Starting a business", "starting-a-business"),
    ("Getting older", "getting-older"),
    ("Looking for work", "looking-for-work"),
]


def _links(entries: list[tuple[str, str, dict]]) -> list[tuple[str, str]]:
    links = []
    for label, endpoint, args in entries:
        try:
            links.append((label, url_for(endpoint, **args)))
        except BuildError:
            continue
    return links


def _cached(render: Callable[[], str]) -> str:
    """An information page from this worker's anonymous-visitor cache, else rendered."""
    ttl = current_app.config["PORTAL"].services_page_cache_seconds
    return page_cache.cached_page("site", ttl, render)


@bp.get("/")
def home():
    return _cached(_home)


def _home() -> str:
    life_events = _links(
        [(label, "council_services.life_event", {"slug": slug}) for label, slug in LIFE_EVENTS]
    )
    return render_template(
        "site/home.html", top_tasks=top_task_links(TOP_TASKS), life_events=life_events
    )


@bp.get("/accessibility")
def accessibility():
    return _cached(lambda: render_template("site/accessibility.html"))


@bp.get("/privacy")
def privacy():
    return _cached(lambda: render_template("site/privacy.html"))


@bp.get("/cookies")
def cookies():
    return _cached(lambda: render_template("site/cookies.html"))


@bp.get("/contact")
def contact():
    return _cached(lambda: render_template("site/contact.html"))
