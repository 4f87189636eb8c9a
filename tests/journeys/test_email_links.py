"""Every link in every email works on the server that sent it.

A real portal server runs on a free port that is not the default 5000, with PORTAL_BASE_URL set
to it. The main journeys run against it over HTTP (stdlib urllib, a cookie jar, no redirects
followed); every email it sends lands as an .eml file in the instance outbox. Every link in every
part of every email is then fetched from that server: each must answer 200, or a redirect to a
page of that same server. A link on another host or port (say :5000) fails the test.
"""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from werkzeug.serving import make_server

from portal.accounts import services as account_services
from portal.accounts.demo import demo_password
from portal.common.clock import uk_today
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from portal.online_forms.demo import load_demo_forms
from portal.planning import services as planning_services
from portal.repairs.demo import load_demo_repairs
from portal.repairs.models import RepairNode
from tests.common.test_outbox import free_port

URL_PATTERN = re.compile(r"https?://[^\s<>\"')\]]+")
TENANT = "resident1@castlebrook.example"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None  # every redirect is answered to the caller, to check where it goes


class Visitor:
    """One person's browser without JavaScript: cookies, forms with their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def open(self, url: str, data: dict | list | None = None) -> Answer:
        url = urljoin(self.base + "/", url)
        body = urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=body), timeout=30) as reply:
                return Answer(
                    reply.status, dict(reply.headers), reply.read().decode("utf-8", "replace")
                )
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read().decode("utf-8", "replace"))

    def get(self, url: str, expect: int = 200) -> Answer:
        answer = self.open(url)
        assert answer.status == expect, (url, answer.status, answer.text[:1500])
        return answer

    def submit(self, url: str, fields: dict, expect: int = 302, action: str = "") -> Answer:
        """GET `url`, then POST `fields` to its form (the last in <main>, or the one whose
        action ends with `action`)."""
        page = self.get(url)
        soup = BeautifulSoup(page.text, "html.parser")
        forms = (soup.find("main") or soup).find_all("form", method=re.compile("post", re.I))
        if action:
            forms = [f for f in forms if (f.get("action") or "").endswith(action)]
        chosen = forms[-1]
        data: dict = {
            field["name"]: field.get("value", "")
            for field in chosen.find_all("input", attrs={"type": "hidden"})
            if field.get("name")
        }
        data.update(fields)
        answer = self.open(urljoin(urljoin(self.base, url), chosen.get("action") or url), data)
        assert answer.status == expect, (url, answer.status, answer.text[:3000])
        return answer

    def follow(self, answer: Answer) -> str:
        """The path a redirect goes to, checked to stay on this server."""
        target = urljoin(self.base + "/", answer.location)
        assert target.startswith(self.base + "/"), target
        return target[len(self.base) :]


@pytest.fixture
def server(make_app, tmp_path: Path) -> Iterator[tuple[str, object]]:
    port = free_port()
    assert port != 5000
    base = f"http://127.0.0.1:{port}"
    app = make_app(base_url=base)
    with app.app_context():
        load_demo_gazetteer()
        account_services.create_user(TENANT, (), password=demo_password("resident1"), name="Alex")
        db.session.commit()
        load_demo_forms()
        load_demo_repairs()
        db.session.commit()
    http_server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=http_server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield base, app
    finally:
        http_server.shutdown()
        thread.join(timeout=5)


def links_in(message) -> list[str]:  # noqa: ANN001
    """Every link in every text part (HTML parts: their hrefs too) and in List-Unsubscribe."""
    links = []
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        text = part.get_content()
        if part.get_content_subtype() == "html":
            soup = BeautifulSoup(text, "html.parser")
            links += [a["href"] for a in soup.find_all("a", href=True)]
        links += URL_PATTERN.findall(text)
    if message["List-Unsubscribe"]:
        links += re.findall(r"<(https?://[^>]+)>", str(message["List-Unsubscribe"]))
    return [link.rstrip(".,;:") for link in links]


class Inbox:
    """The .eml files the server wrote; each new one's links are followed as it arrives, so a
    single-use link is checked before the journey spends it."""

    def __init__(self, app, base: str) -> None:  # noqa: ANN001
        self.outbox = Path(app.config["OUTBOX_DIR"])
        self.base = base
        self.messages: list = []
        self.seen: set[Path] = set()
        self.failures: list[str] = []
        self.followed = 0
        self.checker = Visitor(base)

    def check_new(self) -> None:
        for path in sorted(self.outbox.glob("*.eml")):
            if path in self.seen:
                continue
            self.seen.add(path)
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            self.messages.append(message)
            for link in links_in(message):
                self._follow(message["Subject"], link)

    def _follow(self, subject: str, link: str) -> None:
        if not link.startswith(self.base + "/"):
            self.failures.append(f"{subject}: {link} is not on {self.base}")
            return
        answer = self.checker.open(link)
        self.followed += 1
        if answer.status in (301, 302, 303, 307, 308):
            target = urljoin(link, answer.location)
            if not target.startswith(self.base + "/"):
                self.failures.append(f"{subject}: {link} redirects off-site to {target}")
        elif answer.status != 200:
            self.failures.append(f"{subject}: {link} answered {answer.status}")

    def link_for(self, to: str, contains: str) -> str:
        self.check_new()
        assert not self.failures, "\n".join(self.failures)  # stop at the first broken email
        for message in reversed(self.messages):
            if message["To"] == to:
                for link in links_in(message):
                    if contains in link:
                        return link
        raise AssertionError(f"no email to {to} with a link containing {contains}")


def run_journeys(base: str, app, inbox: Inbox) -> None:  # noqa: ANN001, PLR0915
    # Register, confirm the email address, forgotten password.
    pat = Visitor(base)
    pat.submit(
        "/register",
        {"display_name": "Pat Lee", "email": "pat@example.com", "password": "a long journey 42"},
    )
    confirm = inbox.link_for("pat@example.com", "/confirm")
    pat.submit(confirm, {})
    Visitor(base).submit("/forgotten-password", {"email": "pat@example.com"})

    # An online form saved and resumed by email, then one with a fee paid in the sandbox.
    saver = Visitor(base)
    first = saver.follow(saver.submit("/forms/report-missed-bin", {}, expect=303))
    second = saver.follow(
        saver.submit(first, {"address_postcode": "CK1 1AB", "address": "100090000001"}, 303)
    )
    saver.submit(second, {"bin": "recycling", "save": "1"}, expect=303)
    saver.submit("/forms/report-missed-bin/save", {"email": "saver@example.com"}, expect=200)

    payer = Visitor(base)
    url = payer.follow(payer.submit("/forms/bulky-waste-collection", {}, expect=303))
    url = payer.follow(payer.submit(url, {"items": ["sofa", "mattress"]}, expect=303))
    url = payer.follow(
        payer.submit(url, {"address_postcode": "CK1 1AB", "address": "100090000001"}, 303)
    )
    day = uk_today() + timedelta(days=40)
    url = payer.follow(
        payer.submit(
            url,
            {"preferred-day": day.day, "preferred-month": day.month, "preferred-year": day.year},
            expect=303,
        )
    )
    payer.submit(url, {"name": "Bo Bulk", "phone": ""}, expect=303)
    done = payer.follow(
        payer.submit("/forms/bulky-waste-collection/check", {"email": "bulk@example.com"}, 303)
    )
    start = payer.follow(payer.submit(done, {}, expect=303))
    card = payer.follow(payer.submit(start, {}, expect=303))
    back = payer.submit(
        card,
        {"card_number": "4242424242424242", "expiry": "12/39", "name": "Bo Bulk", "cvc": "123",
         "action": "pay"},
        expect=303,
    )  # fmt: skip
    after = payer.follow(back)
    landing = payer.open(after)
    while landing.status in (301, 302, 303):
        landing = payer.open(payer.follow(landing))
    assert landing.status == 200, (after, landing.status)

    # A repair reported and booked by the demo tenant.
    tenant = Visitor(base)
    tenant.submit("/sign-in", {"email": TENANT, "password": demo_password("resident1")})
    report = BeautifulSoup(tenant.get("/repairs/report").text, "html.parser")
    home = report.find("input", attrs={"name": "property"})["value"]
    problem_page = tenant.follow(
        tenant.submit("/repairs/report", {"property": home, "emergency": "none"})
    )
    assert "/repairs/report/problem" in problem_page
    with app.app_context():
        tap = db.session.scalar(select(RepairNode.id).where(RepairNode.label == "Dripping tap"))
    details = f"/repairs/report/details?property={home}&problem={tap}"
    fields = {"description": "The kitchen tap drips all night.", "access_notes": "",
              "contact_preference": "email", "contact_phone": ""}  # fmt: skip
    repair_page = tenant.follow(tenant.submit(details, fields))
    reference = re.search(r"/repairs/(RP-[A-Z0-9-]+)", repair_page).group(1)
    book = BeautifulSoup(tenant.get(f"/repairs/{reference}/book").text, "html.parser")
    slot = book.find("input", attrs={"name": "slot"})["value"]
    tenant.submit(f"/repairs/{reference}/book", {"slot": slot, "later": "0"})

    # A planning alert: sign up, confirm; an application tracked; a new application alerts.
    with app.app_context():
        application = planning_services.create_application(
            {
                "reference": "26/00042/HOU",
                "site_address": "1 Abbey Road, Castlebrook",
                "latitude": 52.95,
                "longitude": -1.55,
                "description": "Single-storey rear extension",
                "application_type": "HOU",
                "received_date": uk_today(),
                "consultation_start": uk_today(),
                "consultation_end": uk_today() + timedelta(days=21),
                "case_officer": "Priya Shah",
                "case_officer_email": "officer@castlebrook.example",
                "status": "live",
            },
            notify=False,
        )
        db.session.commit()
        slug = application.slug
        ward = application.ward
    resident = Visitor(base)
    resident.submit(
        "/planning/alerts",
        {"area": "ward", "wards": ward, "email": "alerts@example.com", "frequency": "instant"},
    )
    resident.submit(inbox.link_for("alerts@example.com", "/planning/confirm/"), {}, expect=200)
    tracker = Visitor(base)
    tracker.submit(
        f"/planning/applications/{slug}", {"email": "track@example.com"}, action="/track"
    )
    tracker.submit(inbox.link_for("track@example.com", "/planning/confirm/"), {}, expect=200)
    with app.app_context():
        planning_services.create_application(
            {
                "reference": "26/00043/HOU",
                "site_address": "3 Abbey Road, Castlebrook",
                "latitude": 52.95,
                "longitude": -1.55,
                "description": "Loft conversion with rear dormer",
                "application_type": "HOU",
                "ward": ward,
                "received_date": uk_today(),
                "consultation_start": uk_today(),
                "consultation_end": uk_today() + timedelta(days=21),
                "case_officer": "Priya Shah",
                "case_officer_email": "officer@castlebrook.example",
                "status": "live",
            }
        )
        db.session.commit()


def test_every_link_in_every_email_works_on_the_server_that_sent_it(server):
    base, app = server
    inbox = Inbox(app, base)
    inbox.check_new()  # the demo's own emails (repairs in progress)
    run_journeys(base, app, inbox)
    inbox.check_new()
    subjects = [m["Subject"] for m in inbox.messages]
    for expected in ("Confirm your email", "account password", "Continue your form",
                     "Book a bulky waste collection", "Payment received",
                     "Repair appointment booked", "Confirm your planning alert",
                     "Confirm you want updates", "New planning applications"):  # fmt: skip
        assert any(expected.lower() in s.lower() for s in subjects), "; ".join(subjects)
    assert not inbox.failures, "\n".join(inbox.failures)
    assert inbox.followed >= 15, inbox.followed

    # The alert's unsubscribe link: the one-click POST a mail provider sends, on this server.
    unsubscribe = inbox.link_for("alerts@example.com", "/planning/unsubscribe/")
    assert urlsplit(unsubscribe).port == urlsplit(base).port
    provider = Visitor(base).open(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert provider.status == 200, provider.text[:500]
