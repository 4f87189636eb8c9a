"""In a real browser, with axe: the alert form refused by its rate limit, and the 503 page shown
when the database refuses."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal import create_app
from portal.common.gazetteer.geography import DEMO_WARD_NAMES
from portal.config import Settings
from tests.foundation.test_health import closed_port
from tests.helpers.browser import assert_accessible, serve
from tests.helpers.pages import csrf_token

pytestmark = pytest.mark.browser

WARD = DEMO_WARD_NAMES[0]


@pytest.fixture
def app(make_app):
    return make_app(ratelimit_enabled=True)


def test_an_alert_sign_up_over_the_limit_keeps_the_form_and_says_how_long_to_wait(
    page: Page, live_server, app
):
    from portal.planning import ratelimits

    client = app.test_client()
    for n in range(int(ratelimits.ALERT_SIGNUP_PER_RECIPIENT.split()[0])):
        data = {
            "csrf_token": csrf_token(client, "/planning/alerts"),
            "email": "often@example.com",
            "frequency": "instant",
            "area": "ward",
            "wards": WARD,
        }
        assert (
            client.post(
                "/planning/alerts", data=data, environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"}
            ).status_code
            == 302
        )
    page.goto(live_server("/planning/alerts"))
    page.get_by_label("One or more wards").check()
    page.get_by_label(WARD, exact=True).check()
    page.get_by_label("Email address").fill("often@example.com")
    page.get_by_label("Daily digest").check()
    page.get_by_role("button", name="Create alert").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("You have asked for too many alerts in a short time. Wait")
    expect(page.locator("#email-error")).to_be_visible()
    assert page.title().startswith("Error: ")
    expect(page.get_by_label("Email address")).to_have_value("often@example.com")
    expect(page.get_by_label("Daily digest")).to_be_checked()
    assert_accessible(page, "alerts form refused by the rate limit")
    summary.get_by_role("link").click()
    expect(page.get_by_label("Email address")).to_be_focused()


def test_the_503_page_when_the_database_refuses(page: Page, tmp_path):
    settings = Settings(
        env="test",
        secret_key="test",
        instance_path=str(tmp_path),
        database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/portal",
        jobs_immediate=True,
        ratelimit_enabled=False,
        planning_page_cache_seconds=0,
    )
    app = create_app(settings=settings)
    with serve(app) as server:
        response = page.goto(server("/planning"))
        assert response is not None and response.status == 503
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Sorry, the service is unavailable"
        )
        expect(page.get_by_role("link", name="contact us another way")).to_be_visible()
        assert_accessible(page, "503 page")
