"""The pages and states the security fixes added, in a real browser with axe: sign-in locked and
the emailed sign-in link, the confirm-your-email banner, payments flagged for finance and the
officers' inbox in pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from tests.accounts.helpers import emails_to, link_in, user_with_password
from tests.helpers.auth import make_user, sign_in
from tests.helpers.browser import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def app(make_app):
    return make_app(ratelimit_enabled=True)


def _signed_in(page: Page, app, user) -> None:  # noqa: ANN001
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies(
        [{"name": "session", "value": cookie.value, "domain": "127.0.0.1", "path": "/"}]
    )


def test_locked_sign_in_and_the_emailed_link(app, live_server, page: Page):
    user = user_with_password(app, "locked@example.com")
    page.goto(live_server("/sign-in"))
    for _ in range(11):
        page.get_by_label("Email address").fill(user.email)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        if page.get_by_role("heading", name="Too many attempts to sign in").count():
            break
    expect(page.get_by_role("heading", name="Too many attempts to sign in")).to_be_visible()
    assert_accessible(page, "sign-in locked")

    page.get_by_label("Email address").fill("")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "sign-in link, error")

    page.get_by_label("Email address").fill(user.email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_accessible(page, "sign-in link sent")

    email = next(e for e in emails_to(app, user.email) if "sign in" in e.subject.lower())
    page.goto(live_server(link_in(email)))
    assert_accessible(page, "sign-in link")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/my")
    page.goto(live_server(link_in(email)))
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    assert_accessible(page, "sign-in link used")


def test_unconfirmed_account_sees_the_confirm_banner(app, live_server, page: Page):
    user = make_user(app, email="unconfirmed@example.com")
    with app.app_context():
        db.session.get(User, user.id).email_confirmed_at = None
        db.session.commit()
    _signed_in(page, app, user)
    page.goto(live_server("/planning/alerts/mine"))
    expect(page.locator("#confirm-email")).to_be_visible()
    assert_accessible(page, "your planning alerts, unconfirmed")


def test_payments_flagged_for_finance(app, live_server, page: Page):
    from portal.payments.demo import load_demo_bills
    from portal.payments.models import Payment
    from tests.payments.journey import full_sandbox_payment

    with app.app_context():
        load_demo_bills()
        db.session.commit()
    full_sandbox_payment(app.test_client())
    with app.app_context():
        payment = db.session.scalar(select(Payment))
        payment.attention = "Paid twice (already paid by PY-TEST) and the automatic refund failed"
        reference = payment.reference
        db.session.commit()
    _signed_in(page, app, make_user(app, roles=("finance",)))
    page.goto(live_server("/staff/payments/"))
    expect(page.locator("#attention")).to_contain_text("Paid twice")
    assert_accessible(page, "payments needing attention")
    page.locator("#attention").get_by_role("link", name=reference).click()
    expect(page.locator("#attention")).to_contain_text("automatic refund failed")
    assert_accessible(page, "payment needing attention")


def test_officers_inbox_in_pages(app, live_server, page: Page):
    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.online_forms.demo import load_demo_forms
    from portal.online_forms.models import FormSubmission, OfficeMember, OnlineForm

    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
        form = db.session.scalar(select(OnlineForm).where(OnlineForm.slug == "report-missed-bin"))
        for n in range(60):
            db.session.add(
                FormSubmission(
                    reference=f"FS-PAGE{n:04d}",
                    idempotency_key=f"page-{n}",
                    form_id=form.id,
                    version_id=form.live_version.id,
                    office=form.office,
                    answers={},
                    channel="web",
                    status=FormSubmission.RECEIVED,
                )
            )
        office = form.office
        db.session.commit()
    officer = make_user(app, roles=("officer",))
    with app.app_context():
        db.session.add(OfficeMember(office=office, user_id=officer.id))
        db.session.commit()
    _signed_in(page, app, officer)
    page.goto(live_server("/staff/forms"))
    expect(page.locator("caption")).to_contain_text("page 1 of 2")
    assert_accessible(page, "inbox, page 1")
    page.get_by_role("link", name="Older submissions").click()
    expect(page.locator("caption")).to_contain_text("page 2 of 2")
    assert_accessible(page, "inbox, page 2")
