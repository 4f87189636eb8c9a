"""A form cannot be used to send mail to others: what a submitter types is only emailed to an
address they have proved is theirs, submissions are limited per client and per recipient, and the
officers' inbox stays usable (pages, search) under a flood."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.common.clock import uk_today
from portal.common.models import OutboxEmail
from portal.extensions import db
from portal.online_forms.models import FormSubmission
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html
from tests.online_forms.conftest import ADDRESS, Runner

PHISH = "Your account is locked: log in at http://evil.example/login now"


def _missed_bin(runner, email: str, expect: int = 303, ip: str = "10.5.0.1"):  # noqa: ANN001, ANN202
    runner.client.environ_base["REMOTE_ADDR"] = ip
    url = runner.start()
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"bin": "recycling"})
    url = runner.answer(url, {"out_by_7": "yes"})
    missed = uk_today() - timedelta(days=2)  # inside the form's 14-day window
    url = runner.answer(
        url,
        {
            "missed_on-day": str(missed.day),
            "missed_on-month": str(missed.month),
            "missed_on-year": str(missed.year),
        },
    )
    url = runner.answer(url, {"details": PHISH})
    url = runner.answer(url, {"name": "Bank Security Team", "phone": "01632 960 001"})
    return runner.submit({"email": email}, expect=expect)


def load_demo(app):  # noqa: ANN001, ANN201
    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.online_forms.demo import load_demo_forms

    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    return app


def _emails_to(app, address: str) -> list[OutboxEmail]:  # noqa: ANN001
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def test_free_text_is_never_emailed_to_a_typed_address(demo):
    _missed_bin(Runner(demo.test_client(), "report-missed-bin"), "victim@example.com")
    (email,) = _emails_to(demo, "victim@example.com")
    assert PHISH not in email.body_text and "evil.example" not in email.body_text
    assert "Bank Security Team" not in email.body_text
    with demo.app_context():
        reference = db.session.scalar(select(FormSubmission.reference))
    assert reference in email.subject and f"/forms/requests/{reference}" in email.body_text


def test_a_proved_address_gets_a_copy_of_the_answers(demo):
    resident = make_user(demo, email="resident@example.com")  # confirmed
    _missed_bin(Runner(client_for(demo, resident), "report-missed-bin"), "resident@example.com")
    (email,) = _emails_to(demo, "resident@example.com")
    assert "A copy of your answers" in email.body_text and "Recycling" in email.body_text
    # Signed in, but sending to another address: that address has proved nothing.
    _missed_bin(Runner(client_for(demo, resident), "report-missed-bin"), "other@example.com")
    (other,) = _emails_to(demo, "other@example.com")
    assert PHISH not in other.body_text


def test_submissions_are_limited_per_recipient(make_app):
    app = load_demo(make_app(ratelimit_enabled=True))
    for n in range(5):
        _missed_bin(
            Runner(app.test_client(), "report-missed-bin"),
            "target@example.com",
            ip=f"10.6.0.{n + 1}",
        )
    refused = _missed_bin(
        Runner(app.test_client(), "report-missed-bin"), "target@example.com", 429, "10.6.1.1"
    )
    assert "Too many attempts" in check_html(refused).get_text()
    assert len(_emails_to(app, "target@example.com")) == 5
    # Another recipient from a fresh address still goes through.
    _missed_bin(Runner(app.test_client(), "report-missed-bin"), "me@example.com", ip="10.6.2.1")


def test_submissions_are_limited_per_client_address(make_app):
    app = load_demo(make_app(ratelimit_enabled=True))
    statuses = []
    for n in range(31):
        runner = Runner(app.test_client(), "report-missed-bin")
        expect = 303 if n < 30 else 429
        statuses.append(_missed_bin(runner, f"p{n}@example.com", expect, "10.6.9.9").status_code)
    assert statuses == [303] * 30 + [429]
    with app.app_context():
        assert len(db.session.scalars(select(FormSubmission)).all()) == 30


def test_inbox_pages_and_search_under_a_flood(demo):
    with demo.app_context():
        from portal.online_forms.models import OnlineForm

        form = db.session.scalar(select(OnlineForm).where(OnlineForm.slug == "report-missed-bin"))
        for n in range(120):
            db.session.add(
                FormSubmission(
                    reference=f"FS-FLOOD{n:04d}",
                    idempotency_key=f"flood-{n}",
                    form_id=form.id,
                    version_id=form.live_version.id,
                    office=form.office,
                    answers={},
                    email=f"flood{n}@example.com",
                    channel="web",
                    status=FormSubmission.RECEIVED,
                )
            )
        db.session.commit()
        office = form.office
    officer = make_user(demo, roles=("officer",))
    with demo.app_context():
        from portal.online_forms.models import OfficeMember

        db.session.add(OfficeMember(office=office, user_id=officer.id))
        db.session.commit()
    client = client_for(demo, officer)
    soup = check_html(client.get("/staff/forms"))
    assert "120 submissions (page 1 of 3)" in soup.get_text()
    assert len(soup.select("tbody tr")) == 50
    older = soup.select_one(".govuk-pagination__next a")["href"]
    soup = check_html(client.get(older))
    assert "(page 2 of 3)" in soup.get_text()
    soup = check_html(client.get("/staff/forms?q=flood7@example.com"))
    assert "1 submission" in soup.get_text() and "FS-FLOOD0007" in soup.get_text()
