"""Public pages: the A–Z, browse by topic and life event, search, service pages, /performance."""

from __future__ import annotations

import string

from flask import Blueprint, abort, request
from sqlalchemy import select

from portal.common.page_cache import do_not_keep
from portal.council_services import services as svc
from portal.council_services.catalogue import LIFE_EVENTS, TOPICS
from portal.council_services.forecast import forecast_view
from portal.council_services.models import CHANNELS, LGIL_TYPES, LGIL_VERBS, Service
from portal.council_services.page_cache import cached_page
from portal.db import write_intent
from portal.extensions import db
from portal.rendering import is_htmx_request, render_page

bp = Blueprint("council_services", __name__)
LETTERS = list(string.ascii_uppercase)


def _listing(query):  # noqa: ANN001, ANN202
    return db.session.execute(
        query.with_only_columns(Service.slug, Service.name, Service.summary)
    ).all()


@bp.get("/services")
def index():
    """The A–Z: the letter index, a letter's services, topics and life events."""
    letter = (request.args.get("letter") or "").strip().upper()[:1]
    if letter and letter not in LETTERS:
        abort(404)
    return cached_page(lambda: _index(letter))


def _index(letter: str) -> str:
    available = set(db.session.scalars(select(Service.initial).where(Service.published).distinct()))
    listed = None
    if letter:
        listed = _listing(
            select(Service)
            .where(Service.published, Service.initial == letter)
            .order_by(Service.name)
        )
    return render_page(
        "council_services/index.html",
        letters=LETTERS,
        available=available,
        letter=letter,
        listed=listed,
        topics=TOPICS,
        life_events=LIFE_EVENTS,
    )


def _tagged(column: str, slug: str) -> list:
    rows = db.session.execute(
        select(Service.slug, Service.name, Service.summary, getattr(Service, column))
        .where(Service.published)
        .order_by(Service.name)
    ).all()
    return [r for r in rows if slug in (r[3] or [])]


@bp.get("/services/topic/<slug>")
def topic(slug: str):
    if slug not in TOPICS:
        abort(404)
    return cached_page(
        lambda: render_page(
            "council_services/browse.html",
            heading=TOPICS[slug],
            kind="topic",
            listed=_tagged("topics", slug),
        )
    )


@bp.get("/services/life-event/<slug>")
def life_event(slug: str):
    if slug not in LIFE_EVENTS:
        abort(404)
    return cached_page(
        lambda: render_page(
            "council_services/browse.html",
            heading=LIFE_EVENTS[slug],
            kind="life event",
            listed=_tagged("life_events", slug),
        )
    )


@bp.get("/services/search")
def search():
    """Search: a real GET form; htmx asks for the results block only, with the same results."""
    return cached_page(_search)


def _search() -> str:
    query = (request.args.get("q") or "").strip()[:200]
    result = svc.search_services(query) if query else None
    if result is not None and not result.services:
        do_not_keep()  # every search that finds nothing is logged, so it is never served cached
        db.session.rollback()  # end the read-only transaction before the one write
        with write_intent():
            svc.log_search_miss(query)
            db.session.commit()
    return render_page(
        "council_services/search.html",
        fragment="results",
        query=query,
        result=result,
        found=svc.found_message(query, result),
        htmx=is_htmx_request(),
    )


@bp.get("/services/<slug>")
def service(slug: str):
    return cached_page(lambda: _public_service(slug))


def _public_service(slug: str) -> str:
    item = db.session.scalar(select(Service).where(Service.slug == slug, Service.published))
    if item is None:
        abort(404)
    return render_service(item, preview=False)


def render_service(item: Service, preview: bool) -> str:
    effective = svc.effective_interactions(item)
    online = [e for e in effective if e.counted and e.e_enabled and e.online_url]
    return render_page(
        "council_services/service.html",
        service=item,
        body=svc.render_markdown(svc.body_after_summary(item.body, item.summary)),
        online=online,
        effective=effective,
        verbs=LGIL_VERBS,
        channels=CHANNELS,
        topics=TOPICS,
        preview=preview,
    )


@bp.get("/performance")
def performance():
    """The live BVPI 157 figure with its breakdowns, gaps, exclusions and trend."""
    figure = svc.bvpi157()
    history = svc.snapshots()
    return render_page(
        "council_services/performance.html",
        figure=figure,
        by_type=svc.bvpi157_breakdown("type"),
        by_department=svc.bvpi157_breakdown("department"),
        gaps=svc.not_yet_enabled(),
        exclusions=svc.exclusions(),
        history=history,
        chart=trend_chart(history, svc.BVPI157_TARGET),
        lgil_types=LGIL_TYPES,
        forecast=forecast_view(),
    )


def trend_chart(history: list, target: float) -> dict:
    """Bar geometry for a server-rendered SVG (no JavaScript, no inline styles)."""
    width, height, top, bottom, left = 640, 240, 10, 40, 40
    plot_h = height - top - bottom
    n = max(len(history), 1)
    slot = (width - left - 10) / n
    bars = []
    for index, snap in enumerate(history):
        h = plot_h * min(snap.percent, 100) / 100
        bars.append(
            {
                "x": round(left + index * slot + slot * 0.15, 1),
                "y": round(top + plot_h - h, 1),
                "w": round(slot * 0.7, 1),
                "h": round(h, 1),
                "label": snap.taken_at.strftime("%b %Y"),
                "lx": round(left + index * slot + slot / 2, 1),
                "percent": snap.percent,
            }
        )
    target_y = round(top + plot_h - plot_h * min(target, 100) / 100, 1)
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "target_y": target_y,
        "left": left,
        "base_y": top + plot_h,
        "label_y": height - 15,
        "ticks": [(p, round(top + plot_h - plot_h * p / 100, 1)) for p in (0, 50, 100)],
    }
