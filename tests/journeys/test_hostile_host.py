"""No absolute URL the portal gives out comes from the request's Host or X-Forwarded-Host.

Every request below says it is for evil.example (Host and X-Forwarded-Host, behind one trusted
proxy, so the forwarded host is what Flask believes). The journeys that produce absolute URLs
run; then emails (bodies and headers), pages, redirects, API answers, and the return addresses
given to the payment gateway are searched for the hostile name.
"""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from portal.common.clock import uk_today
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import OutboxEmail
from portal.extensions import db
from portal.online_forms.demo import load_demo_forms
from portal.payments.models import Payment, SandboxCharge
from tests.helpers.pages import csrf_token
from tests.online_forms.conftest import ADDRESS, Runner
from tests.planning.conftest import make_application

EVIL = "evil.example"
BASE = "http://www.castlebrook.example"


class HostileClient(FlaskClient):
    """A test client whose every request claims to be for the hostile host; keeps all answers."""

    seen: list[str]

    def open(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        headers = dict(kwargs.pop("headers", None) or {})
        headers.update({"Host": EVIL, "X-Forwarded-Host": EVIL})
        response = super().open(*args, headers=headers, **kwargs)
        self.seen.append(response.headers.get("Location", ""))
        if response.mimetype != "application/pdf":
            self.seen.append(response.get_data(as_text=True))
        return response


def test_absolute_urls_never_come_from_the_host_header(make_app):
    app = make_app(base_url=BASE, trusted_proxies=1)
    app.test_client_class = HostileClient
    HostileClient.seen = []
    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
        application = make_application(notify=False)
        db.session.commit()
        slug = application.slug
    client = app.test_client()

    # Accounts: register (confirmation link), forgotten password (reset link).
    token = csrf_token(client, "/register")
    client.post(
        "/register",
        data={"csrf_token": token, "display_name": "Pat", "email": "pat@example.com",
              "password": "a long journey 42"},
    )  # fmt: skip
    token = csrf_token(client, "/forgotten-password")
    client.post("/forgotten-password", data={"csrf_token": token, "email": "pat@example.com"})

    # A form saved for later (the resume link) and a form with a fee (the gateway's returns).
    saver = Runner(app.test_client(), "report-missed-bin")
    url = saver.answer(saver.start(), ADDRESS)
    saver.post(url, {"bin": "recycling", "save": "1"})
    saver.post("/forms/report-missed-bin/save", {"email": "saver@example.com"}, expect=200)

    payer = Runner(app.test_client(), "bulky-waste-collection")
    url = payer.answer(payer.start(), {"items": ["sofa"]})
    url = payer.answer(url, ADDRESS)
    day = uk_today() + timedelta(days=40)
    url = payer.answer(
        url, {"preferred-day": day.day, "preferred-month": day.month, "preferred-year": day.year}
    )
    payer.answer(url, {"name": "Bo Bulk", "phone": ""})
    done = payer.submit({"email": "bulk@example.com"}).headers["Location"]
    started = payer.client.post(done + "/pay", data={"csrf_token": csrf_token(payer.client, done)})
    start = started.headers["Location"]
    to_gateway = payer.client.post(start, data={"csrf_token": csrf_token(payer.client, start)})
    assert to_gateway.status_code == 303

    # Planning: an alert, tracking, the open data and the API description.
    token = csrf_token(client, "/planning/alerts")
    client.post(
        "/planning/alerts",
        data={"csrf_token": token, "area": "ward", "wards": "Castle", "email": "a@example.com",
              "frequency": "instant"},
    )  # fmt: skip
    token = csrf_token(client, f"/planning/applications/{slug}")
    client.post(
        f"/planning/applications/{slug}/track", data={"csrf_token": token, "email": "t@example.com"}
    )
    for path in (
        "/api/v1/openapi.json",
        "/api/v1/services",
        "/api/v1/planning/applications",
        "/api/v1/planning/applications.csv",
        "/api/v1/planning/applications.rss",
        "/open311/v2/services.json",
    ):
        assert client.get(path).status_code == 200, path

    with app.app_context():
        emails = db.session.scalars(select(OutboxEmail)).all()
        stored = [
            *[f"{e.body_text} {e.headers}" for e in emails],
            *[f"{p.return_url} {p.gateway_url}" for p in db.session.scalars(select(Payment))],
            *[f"{c.return_url} {c.cancel_url}" for c in db.session.scalars(select(SandboxCharge))],
        ]
        charges = db.session.scalars(select(SandboxCharge)).all()
    assert len(emails) >= 5 and charges, "the journeys really sent emails and opened a checkout"
    assert all(c.return_url.startswith(BASE + "/") for c in charges)
    leaks = [text for text in stored + HostileClient.seen if EVIL in text]
    assert not leaks, leaks[0][:2000]
