"""Every role walks the demo council like a person: every link and GET form, every page checked.

Each role starts where that person lands (the home page; the staff dashboard for staff) and
follows links breadth-first (see tests/helpers/walk.py). A link answering 4xx/5xx fails with the
page it was on and its text; a 403 means a link was shown to someone it is closed to. Every page
reached passes `check_html` (which includes the text a person reads) and the W3C Nu HTML Checker.

The same pages are then loaded in Chromium at 320 CSS pixels wide, signed in as the same person
(the walk's cookies), and none may scroll sideways (WCAG 1.4.10 reflow): one crawl serves the
link, page, HTML and reflow checks for every role.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.accounts.demo import demo_password
from portal.accounts.models import STAFF_ROLES, User
from portal.channels.kiosk import enrol_device
from portal.extensions import db
from tests.channels.helpers import kiosk_client
from tests.helpers.auth import client_for, make_user
from tests.helpers.browser import serve
from tests.helpers.pages import csrf_token
from tests.helpers.reflow import NARROW, cookies_of, sideways_scroll
from tests.helpers.walk import vnu_available, vnu_errors, walk

DEMO = "castlebrook.example"
SAMPLE = 20
UPRN = re.compile(r">[^<]*\bUPRN\b[^<]*<")


def _demo_user(app: Flask, name: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == f"{name}@{DEMO}"))
        assert user is not None, f"the demo has no {name}"
        db.session.expunge(user)
        return user


def _kiosk(app: Flask) -> FlaskClient:
    library = _demo_user(app, "library")
    with app.app_context():
        _, cookie, code = enrol_device("Castlebrook Central Library", "Terminal 1", library.id)
        db.session.commit()
    client = kiosk_client(app, cookie)
    client.kiosk_code = code  # type: ignore[attr-defined]
    return client


def _kiosk_assisted(app: Flask) -> FlaskClient:
    client = _kiosk(app)
    token = csrf_token(client, "/kiosk/assist")
    signed = client.post(
        "/kiosk/assist",
        data={
            "csrf_token": token,
            "email": f"library@{DEMO}",
            "password": demo_password("library"),
            "code": client.kiosk_code,  # type: ignore[attr-defined]
        },
    )
    assert signed.status_code == 303, signed.get_data(as_text=True)[:1000]
    agreed = client.post("/kiosk/assist/consent", data={"csrf_token": token, "consent": "yes"})
    assert agreed.status_code == 303
    return client


def _acting(app: Flask) -> FlaskClient:
    client = client_for(app, _demo_user(app, "officer"))
    resident = _demo_user(app, "resident1")
    token = csrf_token(client, "/staff/callers")
    values = {
        "csrf_token": token,
        "q": "Alex",
        "resident": str(resident.id),
        "channel": "phone",
        "identity_check": "security_questions",
    }
    started = client.post("/staff/callers/start", data=values)
    assert started.status_code == 303, started.get_data(as_text=True)[:1000]
    return client


def _staff(role: str) -> Callable[[Flask], FlaskClient]:
    return lambda app: client_for(app, _demo_user(app, role))


ROLES: dict[str, tuple[Callable[[Flask], FlaskClient], list[str]]] = {
    "anonymous": (lambda app: client_for(app, None), ["/"]),
    "resident": (lambda app: client_for(app, make_user(app, name="Robin Ash")), ["/"]),
    "housing tenant": (lambda app: client_for(app, _demo_user(app, "resident1")), ["/"]),
    **{f"staff {role}": (_staff(role), ["/staff/"]) for role in STAFF_ROLES},
    "library kiosk": (_kiosk, ["/kiosk", "/"]),
    "kiosk with staff help": (_kiosk_assisted, ["/kiosk", "/"]),
    "staff acting for a caller": (_acting, ["/my", "/"]),
}


def _reflow(browser, app: Flask, client: FlaskClient, paths: list[str]) -> list[str]:  # noqa: ANN001
    """The walked pages, loaded at 320 px by the same person, that scroll sideways."""
    context = browser.new_context(viewport=NARROW)
    context.set_default_timeout(20_000)
    try:
        with serve(app) as server:
            # No route (keep_to) here: Playwright turns the HTTP cache off for routed contexts,
            # and each page would fetch every stylesheet and script again.
            context.add_cookies(cookies_of(client, server.url))
            result = sideways_scroll(context.new_page(), server.url, paths)
    finally:
        context.close()
    assert len(result.measured) >= len(paths) // 2, f"only {len(result.measured)} measured"
    return [f"scrolls sideways at 320px: {offender}" for offender in result.offenders]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("role", list(ROLES))
def test_link_walk(demo_app: Flask, browser, role: str) -> None:  # noqa: ANN001
    setup, starts = ROLES[role]
    client = setup(demo_app)
    began = time.perf_counter()
    # The anonymous walk reads every public page; the others sample each long list.
    result = walk(client, starts, max_children=None if role == "anonymous" else SAMPLE)
    walked = time.perf_counter() - began
    failures = result.failures()
    if not role.startswith("staff "):
        # residents are never asked about or shown a UPRN: it is a number for the council
        failures += [
            f"{url}: shows a UPRN" for url, body in result.pages.items() if UPRN.search(body)
        ]
    reason = vnu_available()
    if reason is None:
        failures += [f"invalid HTML: {error}" for error in vnu_errors(result.pages)]
    checked = time.perf_counter() - began - walked
    if not os.environ.get("PORTAL_TEST_DATABASE_URL"):
        # Layout does not depend on the database: the 320 px check runs once, in the SQLite run
        # (.ci/run's first suite); the PostgreSQL run walks and checks the same pages' HTML.
        failures += _reflow(browser, demo_app, client, sorted(result.pages))
    narrow = time.perf_counter() - began - walked - checked
    print(
        f"\n{role}: {len(result.statuses)} requests, {len(result.pages)} pages in {walked:.1f}s;"
        f" Nu HTML Checker {checked:.1f}s"
        + (f" (skipped: {reason})" if reason else "")
        + f"; 320 px reflow {narrow:.1f}s"
    )
    assert len(result.pages) > 5, f"{role} reached only {list(result.statuses)}"
    assert not failures, f"{role}: {len(failures)} problems\n" + "\n".join(failures)
    if reason:
        pytest.skip(f"Nu HTML Checker not run: {reason}")
