"""Browser: a tenant reports a repair with two photos and books a slot, with JavaScript on and
off; axe on every repairs page and state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.repairs import services
from portal.repairs.models import Repair, Slot
from tests.helpers.browser import assert_accessible
from tests.repairs.conftest import (  # noqa: F401  (the world fixture)
    add_slot,
    jpeg_with_gps,
    png_bytes,
    working_days_ahead,
    world,
)


def sign_in_page(page, app, user) -> None:  # noqa: ANN001
    """Give the browser a server-side session for `user` (the accounts pages are not needed)."""
    from tests.helpers.auth import sign_in

    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    page.context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "domain": "127.0.0.1", "path": "/"}]
    )


def _report_and_book(page, live_server, tmp_path, js: bool) -> str:  # noqa: ANN001
    # axe runs inside the page, so it needs JavaScript: the no-JS run checks the journey only.
    def axe(page, label: str) -> None:  # noqa: ANN001
        if js:
            assert_accessible(page, label)

    photo1 = tmp_path / "tap.jpg"
    photo1.write_bytes(jpeg_with_gps())
    photo2 = tmp_path / "sink.png"
    photo2.write_bytes(png_bytes())
    page.goto(live_server("/repairs"))
    axe(page, "start")
    page.get_by_role("button", name="Report a repair").click()
    expect(page.locator("h1")).to_have_text("Is any of these happening now?")
    axe(page, "triage")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page, "triage error")
    page.get_by_label("None of these").check()
    page.get_by_role("button", name="Continue").click()
    for choice in ("Inside your home", "Kitchen", "Sink or taps", "Dripping tap"):
        expect(page.get_by_label(choice, exact=True)).to_be_visible()  # the next page is here
        axe(page, f"tree before {choice}")
        page.get_by_label(choice, exact=True).check()
        page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Tell us about the problem")
    axe(page, "details")
    page.get_by_label("Describe the problem").fill("The kitchen tap drips all night.")
    if js:  # the character count component is running
        expect(page.locator(".govuk-character-count__status").first).to_be_visible()
    page.locator("#photos").set_input_files([str(photo1), str(photo2)])
    page.get_by_label("Access notes (optional)").fill("Dog in the garden")
    page.get_by_label("Email").check()
    page.get_by_role("button", name="Report repair").click()
    expect(page.locator("body")).to_contain_text("Repair reported. Your reference is RP-")
    expect(page.locator("img[alt^='Photo']")).to_have_count(2)
    axe(page, "repair reported")
    reference = page.locator("h1").inner_text().split()[-1]
    page.get_by_role("button", name="Book an appointment").click()
    expect(page.locator("input[name=slot]").first).to_be_visible()
    axe(page, "book")
    page.locator("input[name=slot]").first.check()
    page.get_by_role("button", name="Book appointment").click()
    expect(page.locator("body")).to_contain_text("Appointment booked")
    axe(page, "booked")
    return reference


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_report_with_two_photos_and_book(request, app, world, live_server, tmp_path, js) -> None:  # noqa: F811
    page = request.getfixturevalue("page" if js else "nojs_page")
    with app.app_context():
        slot_id = add_slot("plumbing", working_days_ahead(2), capacity=3).id
        add_slot("plumbing", working_days_ahead(3), "afternoon")
        db.session.commit()
    sign_in_page(page, app, world.tenant)
    reference = _report_and_book(page, live_server, tmp_path, js)
    with app.app_context():
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        assert len(repair.photos) == 2 and repair.status == Repair.BOOKED
        assert repair.active_appointment.slot_id == slot_id
        assert db.session.get(Slot, slot_id).booked == 1


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_carbon_monoxide_alarm_sends_the_tenant_out(request, app, world, live_server, js) -> None:  # noqa: F811
    page = request.getfixturevalue("page" if js else "nojs_page")
    sign_in_page(page, app, world.tenant)
    page.goto(live_server("/repairs/report"))
    page.get_by_label("A carbon monoxide alarm is sounding").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text(
        "If your carbon monoxide alarm is sounding, get everyone out now"
    )
    expect(page.locator("main a[href='tel:999']")).to_be_visible()
    if js:
        assert_accessible(page, "carbon monoxide")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_a_photo_added_by_mistake_is_removed_before_sending(
    request,
    app,
    world,  # noqa: F811
    live_server,
    tmp_path,
    js,
) -> None:
    page = request.getfixturevalue("page" if js else "nojs_page")
    with app.app_context():
        from tests.repairs.conftest import leaf

        leaf_id = leaf("Dripping tap").id
    tap = tmp_path / "tap.jpg"
    tap.write_bytes(jpeg_with_gps())
    selfie = tmp_path / "selfie.png"
    selfie.write_bytes(png_bytes())
    sign_in_page(page, app, world.tenant)
    page.goto(live_server(f"/repairs/report/details?property={world.home_id}&problem={leaf_id}"))
    expect(page.locator("#photos-hint")).to_contain_text("You can add up to 5 photos")
    page.locator("#photos").set_input_files([str(tap), str(selfie)])
    page.get_by_role("button", name="Report repair").click()  # no description yet
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    page.get_by_label("Describe the problem").fill("The tap drips.")
    page.get_by_role("button", name="Remove selfie.png").click()
    expect(page.locator("#photo-removed")).to_have_text("selfie.png removed.")
    expect(page.get_by_label("Describe the problem")).to_have_value("The tap drips.")
    expect(page.locator("button[name=remove_photo]")).to_have_count(1)
    if js:
        assert_accessible(page, "photo removed")
    page.get_by_label("Email").check()
    page.get_by_role("button", name="Report repair").click()
    expect(page.locator("body")).to_contain_text("Repair reported")
    expect(page.locator("img[alt^='Photo']")).to_have_count(1)


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_tenant_cancels_a_repair_and_its_appointment(
    request,
    app,
    world,  # noqa: F811
    live_server,
    js,
) -> None:
    from tests.repairs.test_booking import make_repair

    page = request.getfixturevalue("page" if js else "nojs_page")
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        slot_id = add_slot("plumbing", working_days_ahead(3)).id
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        services.book(repair, slot_id, actor_id=world.tenant.id)
        db.session.commit()
    sign_in_page(page, app, world.tenant)
    page.goto(live_server(f"/repairs/{reference}"))
    page.get_by_role("link", name="Cancel this repair").click()
    expect(page.locator("h1")).to_have_text(f"Cancel repair {reference}")
    expect(page.locator("main")).to_contain_text("will be cancelled too")
    if js:
        assert_accessible(page, "cancel repair")
    page.get_by_label("Why are you cancelling? (optional)").fill("Fixed it myself")
    page.get_by_role("button", name="Cancel repair").click()
    expect(page.locator("body")).to_contain_text(f"Repair {reference} cancelled")
    expect(page.locator("main")).to_contain_text("Cancelled by the tenant: Fixed it myself")
    expect(page.get_by_role("link", name="Cancel this repair")).to_have_count(0)
    if js:
        assert_accessible(page, "repair cancelled by the tenant")
    with app.app_context():
        assert db.session.get(Slot, slot_id).booked == 0


def test_every_repairs_page_passes_axe(app, world, live_server, page, tmp_path) -> None:  # noqa: F811
    from tests.repairs.test_booking import make_repair

    reference = make_repair(app, world.tenant, world.home_id)
    done = make_repair(app, world.tenant, world.home_id, "Cracked glass")
    started = make_repair(app, world.tenant, world.home_id, "Blocked sink")
    with app.app_context():
        add_slot("plumbing", working_days_ahead(2), capacity=1)
        repair = db.session.scalar(select(Repair).where(Repair.reference == done))
        services.set_status(repair, Repair.COMPLETED, None)
        later = add_slot("plumbing", working_days_ahead(4), capacity=1).id
        repair = db.session.scalar(select(Repair).where(Repair.reference == started))
        services.book(repair, later, actor_id=world.tenant.id)
        services.set_status(repair, Repair.IN_PROGRESS, None)
        db.session.commit()
    sign_in_page(page, app, world.tenant)
    for path in (
        "/repairs/link",
        "/repairs/report/gas",
        "/repairs/report/carbon-monoxide",
        "/repairs/report/phone-now?reason=no_water&reason=alarm",
        f"/repairs/{done}",
        f"/repairs/{done}/not-fixed",
        f"/repairs/{started}",  # work started: the appointment is changed by phone
        f"/repairs/{reference}/book?later=1",
    ):
        page.goto(live_server(path))
        assert_accessible(page, path)
    page.goto(live_server("/repairs/link"))
    page.get_by_role("button", name="Link tenancy").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "link errors")
    page.goto(live_server(f"/repairs/{done}/not-fixed"))
    page.get_by_role("button", name="Reopen repair").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "not fixed error")
    # A refused file keeps the rest of the report and explains.
    bad = tmp_path / "invoice.jpg"
    bad.write_bytes(b"%PDF-1.4 not a photo")
    with app.app_context():
        from tests.repairs.conftest import leaf

        leaf_id = leaf("Dripping tap").id
    page.goto(live_server(f"/repairs/report/details?property={world.home_id}&problem={leaf_id}"))
    page.get_by_label("Describe the problem").fill("Drips")
    page.locator("#photos").set_input_files([str(bad)])
    page.get_by_role("button", name="Report repair").click()
    assert (
        "invoice.jpg must be a JPEG, PNG or HEIC photo"
        in page.locator(".govuk-error-summary").inner_text()
    )
    expect(page.get_by_label("Describe the problem")).to_have_value("Drips")
    assert_accessible(page, "details with refused file")
    # Losing the race for the last place.
    page.goto(live_server(f"/repairs/{reference}/book"))
    page.locator("input[name=slot]").first.check()
    with app.app_context():
        for slot in db.session.scalars(select(Slot)):
            slot.booked = slot.capacity
        add_slot("plumbing", working_days_ahead(5), capacity=2)
        db.session.commit()
    page.get_by_role("button", name="Book appointment").click()
    expect(page.locator("body")).to_contain_text("someone else has just booked")
    assert_accessible(page, "lost race")


def test_staff_board_queue_and_search_without_javascript(
    app,
    world,  # noqa: F811
    live_server,
    nojs_page,
) -> None:
    from tests.repairs.test_booking import make_repair

    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        slot = add_slot("plumbing", working_days_ahead(2)).id
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        services.book(repair, slot, actor_id=world.tenant.id)
        db.session.commit()
    page = nojs_page
    sign_in_page(page, app, world.housing)
    page.goto(live_server("/staff/repairs"))
    page.get_by_role("link", name="Booked by tenants").click()
    expect(page.locator("#board-results")).to_contain_text(reference)
    page.goto(live_server("/staff/repairs?view=reopened"))
    page.get_by_label("Search all repairs").fill(reference.lower())
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#board-results")).to_contain_text(reference)


def test_staff_pages_pass_axe(app, world, live_server, page) -> None:  # noqa: F811
    from tests.repairs.test_booking import make_repair

    reference = make_repair(app, world.tenant, world.home_id)
    closed = make_repair(app, world.tenant, world.home_id, "Cracked glass")
    with app.app_context():
        add_slot("plumbing", services.today() + timedelta(days=2))
        repair = db.session.scalar(select(Repair).where(Repair.reference == closed))
        services.set_status(repair, Repair.COMPLETED, None)
        db.session.commit()
    sign_in_page(page, app, world.housing)
    for path in (
        f"/staff/repairs/{closed}",  # a completed repair: no status moves left
        "/staff/repairs",
        "/staff/repairs?view=all",
        "/staff/repairs?view=overdue",
        "/staff/repairs?view=booked",
        "/staff/repairs?view=new&q=castle",
        f"/staff/repairs/{reference}",
        "/staff/repairs/slots",
        "/staff/repairs/tree",
        "/staff/repairs/tenancies",
    ):
        page.goto(live_server(path))
        assert_accessible(page, path)
    # htmx filter links swap the results in place and push the URL.
    page.goto(live_server("/staff/repairs"))
    page.get_by_role("link", name="All", exact=True).click()
    page.wait_for_url("**view=all**")
    assert reference in page.locator("#board-results").inner_text()
    assert_accessible(page, "board after htmx filter")
    # The search looks through every repair, whatever view it was typed on.
    page.goto(live_server("/staff/repairs?view=reopened"))
    page.get_by_label("Search all repairs").fill(reference)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#board-results caption")).to_contain_text("All repairs matching")
    assert reference in page.locator("#board-results").inner_text()
    assert_accessible(page, "board search")
    page.goto(live_server("/staff/repairs/slots"))
    page.get_by_role("button", name="Create slots").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, "slots with errors")
