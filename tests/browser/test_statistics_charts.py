"""Charts and figures read by everyone (WCAG 1.4.11, 1.4.12, 2.4.6, 2.4.4, 1.4.10).

The staff trend chart's bars stand out from white and from each other and have a visible key;
no chart label runs under a bar when text spacing is increased; /performance draws its chart with
the statistics styles and has a heading that says what the figure is; the statistics filters fit
a 320px screen; two payments that read alike on My council have links that do not.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal.common.models import ServiceTransaction
from portal.council_services.demo import load_demo_catalogue
from portal.extensions import db
from portal.payments.services import create_payment
from tests.helpers.auth import make_user, signed_session_cookie
from tests.helpers.browser import assert_accessible, serve
from tests.helpers.contrast import ratio
from tests.helpers.reflow import NARROW

pytestmark = pytest.mark.browser

# WCAG 1.4.12's text spacing, as the bookmarklets apply it (through the CSSOM, which the
# portal's Content Security Policy allows where a <style> element would be refused).
TEXT_SPACING = """() => {
  for (const el of document.querySelectorAll('*')) {
    el.style.setProperty('line-height', '1.5', 'important');
    el.style.setProperty('letter-spacing', '0.12em', 'important');
    el.style.setProperty('word-spacing', '0.16em', 'important');
    if (el.tagName === 'P') el.style.setProperty('margin-bottom', '2em', 'important');
  }
}"""
RGB = "(el) => getComputedStyle(el).fill.match(/\\d+/g).slice(0, 3).map(Number)"
OVERLAPS = """(svg) => {
  const boxes = (selector) => Array.from(svg.querySelectorAll(selector))
    .map(el => ({el, box: el.getBoundingClientRect()}))
    .filter(item => item.box.width > 0 && item.box.height > 0);
  const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
    a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const texts = boxes('text'), bars = boxes('rect');
  const found = [];
  for (const t of texts) {
    for (const r of bars) if (meet(t.box, r.box)) found.push(t.el.textContent + ' under a bar');
    for (const u of texts) if (u !== t && meet(t.box, u.box)) found.push(t.el.textContent + ' on ' + u.el.textContent);
  }
  return found;
}"""


def add_transactions(app) -> None:  # noqa: ANN001
    rng = random.Random(4)
    now = datetime.now(UTC)
    with app.app_context():
        load_demo_catalogue()
        for _ in range(400):
            db.session.add(
                ServiceTransaction(
                    occurred_at=now - timedelta(days=rng.randint(0, 80)),
                    lgsl=rng.choice([57, 524, 528, 533]),
                    lgil=rng.choice([2, 3, 8]),
                    channel=rng.choice(["web", "phone", "face_to_face", "kiosk", "email"]),
                    kind="test",
                )
            )
        db.session.commit()


def cookie_for(app, user, server) -> dict:  # noqa: ANN001
    return {
        "name": app.config["SESSION_COOKIE_NAME"],
        "value": signed_session_cookie(app, user),
        "url": server.url,
    }


def test_the_staff_charts_have_a_key_enough_contrast_and_room_for_spaced_text(app, page):
    add_transactions(app)
    manager = make_user(app, roles=("manager",))
    with serve(app) as server:
        page.context.add_cookies([cookie_for(app, manager, server)])
        page.goto(server("/staff/statistics?period=quarter"))
        light = page.locator("#chart-trend rect.portal-chart__bar--light").first
        digital = page.locator("#chart-trend rect.portal-chart__bar--digital").first
        light_fill, digital_fill = light.evaluate(RGB), digital.evaluate(RGB)
        assert ratio(light_fill, [255, 255, 255]) >= 3, "the light bar against white"
        assert ratio(light_fill, digital_fill) >= 3, "the two bars against each other"
        legend = page.locator("#chart-trend + .portal-chart__legend")
        expect(legend).to_be_visible()
        expect(legend).to_contain_text("All transactions")
        expect(legend).to_contain_text("Digital take-up (self-service digital)")
        # Both axes are drawn and named: transactions up the side, the quarters along the bottom.
        axis_text = page.locator("#chart-trend .portal-chart__y-axis text").all_text_contents()
        assert axis_text[0] == "0" and axis_text[-1] == "Transactions", axis_text
        assert page.locator("#chart-trend > text").last.text_content() == "Quarter"
        swatches = legend.locator(".portal-chart__swatch")
        colours = swatches.evaluate_all(
            "(els) => els.map(el => getComputedStyle(el).backgroundColor.match(/\\d+/g).map(Number))"
        )
        assert colours == [light_fill, digital_fill], "the key matches the bars"
        assert_accessible(page, "statistics")

        page.evaluate(TEXT_SPACING)
        for chart in page.locator("svg.portal-chart__svg").all():
            assert chart.evaluate(OVERLAPS) == [], chart.get_attribute("id")


def test_the_statistics_filters_fit_a_small_screen(app, browser):
    add_transactions(app)
    manager = make_user(app, roles=("manager",))
    context = browser.new_context(viewport=NARROW)
    try:
        page = context.new_page()
        with serve(app) as server:
            context.add_cookies([cookie_for(app, manager, server)])
            page.goto(server("/staff/statistics"))
            for name in ("filter-service", "filter-interaction", "filter-department"):
                right = page.locator(f"#{name}").evaluate(
                    "(el) => el.getBoundingClientRect().right"
                )
                assert right <= NARROW["width"], f"{name} ends at {right}px"
            assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
            region = page.get_by_role("region", name="Transactions by service and channel")
            assert region.get_attribute("tabindex") == "0"
    finally:
        context.close()


def test_performance_draws_its_chart_in_the_house_style_under_a_descriptive_heading(app, page):
    add_transactions(app)
    with serve(app) as server:
        page.goto(server("/performance"))
        label = page.locator("#chart-take-up-public .portal-chart__label").first
        font = label.evaluate("(el) => getComputedStyle(el).fontFamily")
        assert "serif" not in font.replace("sans-serif", ""), font
        assert label.evaluate(RGB) == [11, 12, 12]
        heading = page.locator(".council-bvpi-panel h2")
        expect(heading).to_contain_text("of the ways you deal with us can be done electronically")
        assert_accessible(page, "performance")
        page.evaluate(TEXT_SPACING)
        assert page.locator("#chart-take-up-public").evaluate(OVERLAPS) == []


def test_my_council_links_for_two_like_payments_differ(app, page):
    resident = make_user(app, name="Ada Resident")
    with app.test_request_context():
        for _ in range(2):
            create_payment(
                purpose="bill",
                purpose_ref="CT-1",
                description="Council Tax",
                amount_pence=12000,
                lgsl=57,
                lgil=2,
                user_id=resident.id,
                email=resident.email,
                return_url="/my",
            )
        db.session.commit()
    with serve(app) as server:
        page.context.add_cookies([cookie_for(app, resident, server)])
        page.goto(server("/my"))
        links = page.locator("main a[href^='/payments/']")
        names = [
            link.evaluate("(el) => el.textContent.replace(/\\s+/g, ' ').trim()")
            for link in links.all()
        ]
        assert len(names) == 2, names
        assert names[0] != names[1], names
        assert all(name.startswith("Council Tax – £120.00") for name in names), names
        assert_accessible(page, "My council with two payments")
