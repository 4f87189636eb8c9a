"""Kiosk high contrast, measured (WCAG 1.4.3, 1.4.11, 2.4.7): computed colours of focused links
and buttons and of the map's controls on an enrolled kiosk, not only axe's verdict."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.channels.kiosk import DEVICE_COOKIE
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.planning.demo import load_demo_planning
from tests.channels.helpers import enrol
from tests.helpers.browser import assert_accessible, serve
from tests.helpers.contrast import background_under, ratio, seen

pytestmark = pytest.mark.browser

TEXT = 4.5
NON_TEXT = 3.0


def focused_contrast(locator) -> tuple[float, float]:  # noqa: ANN001
    """(text against its focus background, how far focus changes the look).

    The focus indicator counts as visible when the focused background stands 3:1 from what is
    under the element or from the element's own background before it had focus.
    """
    before = seen(locator)["background"]
    locator.focus()
    colours = seen(locator)
    under = background_under(locator)
    change = max(ratio(colours["background"], under), ratio(colours["background"], before))
    return ratio(colours["text"], colours["background"]), change


def focus_problems(page, label: str, extra: list | None = None) -> list[str]:  # noqa: ANN001
    """Focus the kiosk's header controls and the page's links and buttons one by one."""
    targets = [
        ("header link", page.locator(".portal-kiosk-header .govuk-header__homepage-link")),
        ("Ask for help", page.get_by_role("button", name="Ask for help")),
        ("Start again", page.get_by_role("button", name="Start again")),
        ("High contrast", page.get_by_role("button", name="High contrast")),
    ]
    links = page.locator("main a")
    for index in range(min(links.count(), 8)):
        targets.append((f"main link {index}", links.nth(index)))
    buttons = page.locator("main .govuk-button, main summary")
    for index in range(min(buttons.count(), 4)):
        targets.append((f"main button {index}", buttons.nth(index)))
    problems = []
    for name, locator in targets + (extra or []):
        text, indicator = focused_contrast(locator)
        if text < TEXT:
            problems.append(f"{label}, {name} focused: text {text:.2f}:1")
        if indicator < NON_TEXT:
            problems.append(
                f"{label}, {name} focused: focus colour against the page {indicator:.2f}:1"
            )
    return problems


def test_high_contrast_focus_and_map_controls_are_readable(app, page):
    with app.app_context():
        load_demo_gazetteer()
        load_demo_planning()
    _, cookie, _ = enrol(app)
    with serve(app) as server:
        page.context.add_cookies([{"name": DEVICE_COOKIE, "value": cookie, "url": server.url}])
        page.context.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(server.url) else r.abort(),
        )
        page.goto(server("/kiosk"))
        page.get_by_role("button", name="High contrast").click()
        expect(page.locator("html.portal-kiosk--contrast")).to_have_count(1)
        problems = focus_problems(page, "kiosk start")
        page.goto(server("/planning"))
        expect(page.locator(".planning-map .leaflet-control-zoom-in")).to_be_visible()
        problems += focus_problems(
            page,
            "planning",
            [
                ("zoom in", page.locator(".leaflet-control-zoom-in")),
                ("attribution link", page.locator(".leaflet-control-attribution a").first),
            ],
        )
        page.evaluate("document.activeElement.blur()")

        for name, selector in (
            ("zoom in", ".leaflet-control-zoom-in"),
            ("zoom out", ".leaflet-control-zoom-out"),
            ("attribution", ".leaflet-control-attribution"),
            ("attribution link", ".leaflet-control-attribution a"),
        ):
            locator = page.locator(selector).first
            colours = seen(locator)
            text = ratio(colours["text"], colours["background"])
            if text < TEXT:
                problems.append(f"{name}: text {text:.2f}:1")
        zoom = page.locator(".leaflet-control-zoom")
        control = ratio(seen(zoom.locator("a").first)["background"], background_under(zoom))
        if control < NON_TEXT:
            problems.append(f"zoom control against the map: {control:.2f}:1")
        assert not problems, "\n".join(problems)
        assert_accessible(page, "planning in kiosk high contrast")
