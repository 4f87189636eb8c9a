"""Residents complete every demo form in Chromium, with JavaScript on and off, checked by axe."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.common.clock import uk_today
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import OutboxEmail
from portal.extensions import db
from portal.online_forms.demo import load_demo_forms
from portal.online_forms.models import FormSubmission
from tests.helpers.browser import axe_violations


def assert_accessible(page, label: str = "") -> None:
    """axe on the page. The only rule set aside is the base template's phase banner sitting
    outside a landmark: the foundation branch wraps it in a labelled region."""
    violations = [
        v
        for v in axe_violations(page)
        if not v.startswith("region (moderate)") or "['.govuk-phase-banner']" not in v
    ]
    assert not violations, f"axe violations on {label or page.url}:\n" + "\n".join(violations)


@pytest.fixture
def demo_server(app, live_server):
    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    return live_server


def photo(tmp_path, name="photo.jpg"):
    path = tmp_path / name
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(image, format="JPEG")
    path.write_bytes(image.getvalue())
    return path


def cont(page: Page, check: bool) -> None:
    if check:
        assert_accessible(page)
    page.click("button[name=continue]")


def address(page: Page, check: bool, field: str = "address") -> None:
    page.fill(f"#{field}-postcode", "CK1 1AB")
    page.click(f"button[name={field}_find]")
    page.select_option(f"select#{field}", "100090000001")
    cont(page, check)


def radio(label: str):
    def step(page: Page, check: bool) -> None:
        page.get_by_label(label, exact=True).check()
        cont(page, check)

    return step


def boxes(*labels: str):
    def step(page: Page, check: bool) -> None:
        for label in labels:
            page.get_by_label(label, exact=True).check()
        cont(page, check)

    return step


def recent_date() -> tuple[str, str, str]:
    """Two days ago as typed (day, month, year): inside the missed bin's 14-day window."""
    day = uk_today() - timedelta(days=2)
    return str(day.day), str(day.month), str(day.year)


def date_of(field: str, day="3", month="3", year="2027"):
    def step(page: Page, check: bool) -> None:
        page.fill(f"#{field}-day", day)
        page.fill(f"#{field}-month", month)
        page.fill(f"#{field}-year", year)
        cont(page, check)

    return step


def fill(**values: str):
    def step(page: Page, check: bool) -> None:
        for field, value in values.items():
            page.fill(f"#{field}", value)
        cont(page, check)

    return step


def upload(field: str, tmp_path, name="photo.jpg"):
    def step(page: Page, check: bool) -> None:
        page.set_input_files(f"#{field}", str(photo(tmp_path, name)))
        page.click("button[name=upload]")
        expect(page.locator(f"#{field}-uploaded")).to_contain_text(name)
        cont(page, check)

    return step


def manual_address(field: str):
    def step(page: Page, check: bool) -> None:
        page.locator("summary", has_text="Enter the address manually").click()
        page.fill(f"#{field}-line1", "9 New Street")
        page.fill(f"#{field}-town", "Castlebrook")
        page.fill(f"#{field}-manual-postcode", "CK2 9ZZ")
        cont(page, check)

    return step


def map_point(field: str):
    def step(page: Page, check: bool) -> None:
        page.locator("summary", has_text="Or give a point on a map").click()
        page.fill(f"#{field}-lat", "52.95")
        page.fill(f"#{field}-lng", "-1.5")
        cont(page, check)

    return step


def journeys(tmp_path) -> dict:
    contact = fill(name="Ada Resident")
    return {
        "report-missed-bin": (
            [
                address,
                radio("Recycling"),
                radio("Yes"),
                date_of("missed_on", *recent_date()),
                fill(details=""),
                contact,
            ],
            {},
            "Form sent",
        ),
        "new-or-replacement-bin": (
            [radio("Recycling"), radio("Broken"), address, contact],
            {},
            "Pay to complete your request",
        ),
        "resident-parking-permit": (
            [
                address,
                fill(registration="CK21 ABC"),
                upload("proof", tmp_path, "bill.jpg"),
                date_of("starts_on"),
                contact,
            ],
            {"declaration": True},
            "Pay to complete your request",
        ),
        "bulky-waste-collection": (
            [boxes("Sofa", "Mattress"), address, date_of("preferred"), contact],
            {},
            "Pay to complete your request",
        ),
        "report-fly-tipping": (
            [
                map_point("location"),
                boxes("Furniture"),
                radio("A car boot load"),
                upload("photos", tmp_path),
                fill(details="By the gate"),
            ],
            {},
            "Form sent",
        ),
        "assisted-bin-collection": (
            [radio("No"), fill(reason="I use a wheelchair"), address, contact],
            {},
            "Form sent",
        ),
        "i-have-moved": (
            [
                lambda p, c: address(p, c, "old_address"),
                manual_address("new_address"),
                date_of("moved_on", "1", "10", "2026"),
                fill(name="Mo Ver", email_address="mo@example.com"),
            ],
            {"declaration": True},
            "Form sent",
        ),
        "library-opening-hours": (
            [radio("Evenings"), radio("Yes"), fill(comments="")],
            {},
            "Form sent",
        ),
    }


def complete(page: Page, server, slug: str, steps, options, outcome, check: bool) -> str:
    page.goto(server(f"/forms/{slug}"))
    if check:
        assert_accessible(page)
    page.click("text=Start now")
    for step in steps:
        step(page, check)
    expect(page.locator("h1")).to_have_text("Check your answers before sending your form")
    if check:
        assert_accessible(page)
    page.fill("#email", "resident@example.com")
    if options.get("declaration"):
        page.click("button.govuk-button >> text=/Send/")
        expect(page.locator(".govuk-error-summary")).to_contain_text(
            "Confirm that the information you have given is correct"
        )
        if check:
            assert_accessible(page)
        page.check("#declaration")
    page.click("button.govuk-button >> text=/Send/")
    expect(page.locator("h1")).to_have_text(outcome)
    if check:
        assert_accessible(page)
    return page.url


@pytest.mark.parametrize("slug", list(journeys(None)))
@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_complete_each_demo_form(app, demo_server, page, nojs_page, tmp_path, slug, js):
    browser_page = page if js else nojs_page
    steps, options, outcome = journeys(tmp_path)[slug]
    url = complete(browser_page, demo_server, slug, steps, options, outcome, check=js)
    reference = url.rsplit("/", 1)[1]
    with app.app_context():
        item = db.session.scalar(
            select(FormSubmission).where(FormSubmission.reference == reference)
        )
        assert item is not None and item.form.slug == slug
        assert item.status == ("awaiting_payment" if outcome.startswith("Pay") else "received")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_errors_branching_and_change_links(app, demo_server, page, nojs_page, js):
    p = page if js else nojs_page
    p.goto(demo_server("/forms/report-missed-bin"))
    p.click("text=Start now")
    # error states of the address lookup
    p.click("button[name=continue]")
    expect(p.locator(".govuk-error-summary")).to_contain_text("Enter a postcode")
    if js:
        assert_accessible(p, "address error")
    p.fill("#address-postcode", "SW1A 1AA")
    p.click("button[name=continue]")
    expect(p.locator(".govuk-error-summary")).to_contain_text(
        "Enter a postcode in the Castlebrook Council area"
    )
    address(p, False)
    p.click("button[name=continue]")
    expect(p.locator(".govuk-error-summary")).to_contain_text("Select which bin was missed")
    if js:
        assert_accessible(p, "radios error")
    radio("Rubbish")(p, False)
    # branching: a late bin goes to the exit page
    radio("No")(p, js)
    expect(p.locator("h1")).to_have_text("We cannot come back for this bin")
    if js:
        assert_accessible(p, "exit page")
    p.click("a.govuk-back-link")
    radio("Yes")(p, False)
    p.fill("#missed_on-day", "30")
    p.fill("#missed_on-month", "2")
    p.fill("#missed_on-year", "2026")
    p.click("button[name=continue]")
    expect(p.locator(".govuk-error-summary")).to_contain_text(
        "The date of the missed collection must be a real date"
    )
    expect(p.locator("#missed_on-day")).to_have_value("30")
    if js:
        assert_accessible(p, "date error")
    date_of("missed_on", *recent_date())(p, False)
    fill(details="x" * 501)(p, False)
    expect(p.locator(".govuk-error-summary")).to_contain_text("must be 500 characters or less")
    fill(details="Behind the gate")(p, False)
    fill(name="Ada")(p, False)
    # change links on check your answers
    p.click("a:has-text('Change which bin was missed?')")
    expect(p.locator("input[value=rubbish]")).to_be_checked()
    radio("Garden waste")(p, False)
    expect(p.locator("h1")).to_have_text("Check your answers before sending your form")
    expect(p.locator(".govuk-summary-list")).to_contain_text("Garden waste")
    p.click("button.govuk-button >> text=/Send/")
    expect(p.locator("h1")).to_have_text("Form sent")
    # refreshing the confirmation page or going back and sending again saves nothing twice
    p.go_back()
    if p.locator("button.govuk-button >> text=/Send/").count():
        p.click("button.govuk-button >> text=/Send/")
    with app.app_context():
        assert db.session.query(FormSubmission).count() == 1


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_save_and_come_back_with_an_emailed_link(app, demo_server, browser, page, nojs_page, js):
    p = page if js else nojs_page
    p.goto(demo_server("/forms/report-missed-bin"))
    p.click("text=Start now")
    address(p, False)
    p.get_by_label("Recycling", exact=True).check()
    p.click("button[name=save]")
    expect(p.locator("h1")).to_have_text("Your answers are saved")
    if js:
        assert_accessible(p, "save page")
    p.click("text=Send me a link")
    expect(p.locator(".govuk-error-summary")).to_contain_text("Enter your email address")
    if js:
        assert_accessible(p, "save page error")
    p.fill("#email", "later@example.com")
    p.click("text=Send me a link")
    expect(p.locator("h1")).to_have_text("We have sent you a link")
    if js:
        assert_accessible(p, "link sent")
    with app.app_context():
        body = db.session.scalar(
            select(OutboxEmail).where(OutboxEmail.to_address == "later@example.com")
        ).body_text
    link = re.search(r"https?://\S+/resume/\S+", body).group(0)
    path = link.split("/forms/", 1)[1]
    other = browser.new_context(java_script_enabled=js)
    q = other.new_page()
    q.goto(demo_server("/forms/" + path))
    expect(q.locator("h1")).to_have_text("Was the bin out by 7am on collection day?")
    q.click("a.govuk-back-link")
    expect(q.locator("input[value=recycling]")).to_be_checked()
    other.close()


def test_file_errors_in_the_browser(demo_server, page, tmp_path):
    page.goto(demo_server("/forms/resident-parking-permit"))
    page.click("text=Start now")
    address(page, False)
    fill(registration="CK21 ABC")(page, False)
    bad = tmp_path / "notes.txt"
    bad.write_text("not a document")
    page.set_input_files("#proof", str(bad))
    page.click("button[name=upload]")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "notes.txt: The selected file must be a PDF, JPG or PNG"
    )
    assert_accessible(page, "file error")
    page.set_input_files("#proof", [str(photo(tmp_path, "a.jpg")), str(photo(tmp_path, "b.jpg"))])
    page.click("button[name=upload]")
    expect(page.locator("#proof-uploaded")).to_contain_text("b.jpg")
    expect(page.locator("#proof")).to_have_count(0)
    assert_accessible(page, "files uploaded")
    page.click("button[name=remove_file] >> nth=0")
    expect(page.locator("#proof-uploaded li")).to_have_count(1)
