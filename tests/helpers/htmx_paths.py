"""The htmx path check: an htmx-enhanced form or search, used with bad and good input in Chromium.

For each step the check asserts what a screen reader user needs (WCAG 3.3.1, 4.1.3):

- the answer came by htmx, not by a page load (a full load would hide a broken htmx path);
- bad input: the message is at its field (in the field's `aria-describedby`, the input marked as
  in error) and is announced: an error summary with `role=alert` that takes the focus and links
  to the field, or, for an inline check, the message read out by the page's status region with
  the focus on the field;
- good input: the status message is read out by `#portal-status`, the live region that was on
  the page before the swap (the same element, not one that came with the new content), no error
  is left, and the title says what was found;
- axe finds nothing after every step; the steps run one after another, so a later step proves the
  form still works after an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from tests.helpers.browser import assert_accessible

Text = str | re.Pattern[str]


@dataclass
class Step:
    """One use of the form: `act` enters the input and submits it (or types, for live search)."""

    act: Callable[[Page], None]
    status: Text | None = None  # what #portal-status reads out after good input
    title: Text | None = None  # the document title after the step
    error_field: str | None = None  # the id of the field in error after bad input
    error: str | None = None  # its message
    summary: bool = True  # the error comes with an error summary (else inline and read out)


def _described_by(page: Page, field_id: str) -> str:
    """The text of everything that describes the field (its own or its fieldset's describedby)."""
    return page.evaluate(
        """(id) => {
            const field = document.getElementById(id);
            const holders = [field, field.closest('fieldset')].filter(Boolean);
            const ids = holders.flatMap((h) => (h.getAttribute('aria-describedby') || '').split(/\\s+/));
            return ids.filter(Boolean).map((i) => {
                const el = document.getElementById(i);
                return el && el.classList.contains('govuk-error-message') ? el.textContent : '';
            }).join(' ');
        }""",
        field_id,
    )


def _settled(page: Page) -> None:
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def check_htmx_path(page: Page, label: str, target: str, steps: list[Step]) -> None:
    """Run `steps` on the page already open in `page` (JavaScript on); `target` is the swap target."""
    region = page.locator("#portal-status")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_have_attribute("role", "status")
    region_handle = region.element_handle()
    assert not page.evaluate(
        "([region, target]) => document.querySelector(target).contains(region)",
        [region_handle, target],
    ), "the status region must not be inside the content htmx replaces"
    # A page load would wipe this mark: every step must be answered by htmx.
    page.evaluate("window.__htmxPathCheck = true")
    for number, step in enumerate(steps, start=1):
        where = f"{label}, step {number}"
        with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
            step.act(page)
        _settled(page)
        assert page.evaluate("window.__htmxPathCheck === true"), f"{where}: the page reloaded"
        assert page.evaluate("(r) => r.isConnected", region_handle), (
            f"{where}: the status region was replaced"
        )
        if step.error_field:
            field = page.locator(f"#{step.error_field}")
            expect(field).to_be_visible()
            assert "error" in (field.get_attribute("class") or ""), (
                f"{where}: the field in error is not marked as in error"
            )
            assert step.error in _described_by(page, step.error_field), (
                f"{where}: the field's aria-describedby does not hold {step.error!r}"
            )
            if step.summary:
                summary = page.locator(".govuk-error-summary")
                expect(summary).to_be_visible()
                expect(summary.locator("[role=alert]")).to_have_count(1)
                expect(summary).to_be_focused()
                link = summary.locator(f'a[href="#{step.error_field}"]')
                expect(link).to_have_text(step.error)
            else:
                expect(region).to_contain_text(step.error)
                expect(field).to_be_focused()
        else:
            expect(page.locator(".govuk-error-summary")).to_have_count(0)
            expect(page.locator(".govuk-error-message")).to_have_count(0)
        if step.status is not None:
            expect(region).to_have_text(step.status)
        if step.title is not None:
            expect(page).to_have_title(step.title)
        assert_accessible(page, where)
        if step.error_field and step.summary:
            # following the summary's link reaches the field, as on a full page
            page.locator(f'.govuk-error-summary a[href="#{step.error_field}"]').click()
            expect(page.locator(f"#{step.error_field}")).to_be_focused()
