"""Reporting a repair: emergency triage, the tree, details with photos, reference and email."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from portal.common.models import OutboxEmail, ServiceTransaction
from portal.extensions import db
from portal.repairs.models import Repair, RepairContact, RepairPhoto
from tests.helpers.auth import client_for
from tests.helpers.pages import check_html, csrf_token, error_summary, get_page
from tests.repairs.conftest import jpeg_with_gps, leaf, png_bytes


def _triage(client, home_id, choices):  # noqa: ANN001, ANN202
    token = csrf_token(client, "/repairs/report")
    return client.post(
        "/repairs/report",
        data={"csrf_token": token, "property": str(home_id), "emergency": choices},
    )


def test_start_page_for_tenant_and_anonymous(app, world) -> None:
    soup = get_page(app.test_client(), "repairs.start")
    assert "gas" in soup.get_text()
    client = client_for(app, world.tenant)
    soup = get_page(client, "repairs.start")
    assert soup.find("a", string="Report a repair")


def test_gas_goes_to_the_gas_number_only_and_is_recorded(app, world) -> None:
    client = client_for(app, world.tenant)
    response = _triage(client, world.home_id, ["gas", "no_water"])
    assert response.status_code == 302 and response.location.endswith("/repairs/report/gas")
    soup = check_html(client.get(response.location))
    text = soup.get_text()
    assert app.config["PORTAL"].council_gas_emergency_phone in text
    assert app.config["PORTAL"].council_phone not in soup.select_one("main").get_text()
    assert not soup.select("main form")
    with app.app_context():
        contact = db.session.scalar(select(RepairContact))
        assert contact.outcome == "gas" and contact.user_id == world.tenant.id
        assert db.session.scalar(select(func.count(Repair.id))) == 0


def test_phone_now_list_shows_both_numbers_and_is_recorded(app, world) -> None:
    client = client_for(app, world.tenant)
    for reason in ("no_heating", "no_water", "no_electricity", "water_on_electrics",
                   "insecure", "exposed_wires", "alarm"):  # fmt: skip
        response = _triage(client, world.home_id, [reason])
        assert "/repairs/report/phone-now" in response.location, reason
    soup = check_html(client.get(response.location))
    text = soup.get_text()
    settings = app.config["PORTAL"]
    assert settings.council_phone in text and settings.council_out_of_hours_phone in text
    assert "smoke alarm" in text
    with app.app_context():
        assert db.session.scalar(select(func.count(RepairContact.id))) == 7


def test_carbon_monoxide_alarm_gets_the_get_out_now_advice(app, world) -> None:
    client = client_for(app, world.tenant)
    triage = check_html(client.get("/repairs/report"))
    assert triage.find("label", string="A carbon monoxide alarm is sounding")
    # It wins over everything else chosen with it, gas included.
    for choices in (
        ["carbon_monoxide"],
        ["no_heating", "carbon_monoxide"],
        ["gas", "carbon_monoxide"],
    ):
        response = _triage(client, world.home_id, choices)
        assert response.location.endswith("/repairs/report/carbon-monoxide"), choices
    soup = check_html(client.get(response.location))
    main = soup.select_one("main")
    steps = [li.get_text(" ", strip=True) for li in main.select("ol li")]
    assert any(step.startswith("Leave your home") for step in steps)
    settings = app.config["PORTAL"]
    assert main.find("a", href=f"tel:{settings.council_gas_emergency_phone.replace(' ', '')}")
    assert main.find("a", href="tel:999")
    assert not main.select("form")
    with app.app_context():
        outcomes = db.session.scalars(select(RepairContact.outcome)).all()
        assert outcomes == ["carbon_monoxide"] * 3
        assert db.session.scalar(select(func.count(Repair.id))) == 0


def test_triage_needs_an_answer_and_none_continues(app, world) -> None:
    client = client_for(app, world.tenant)
    response = _triage(client, world.home_id, [])
    soup = check_html(response)
    assert error_summary(soup) == ["Select if any of these are happening, or select none of these"]
    response = _triage(client, world.home_id, ["none", "gas"])
    assert "not both" in error_summary(check_html(response))[0]
    response = _triage(client, world.home_id, ["none"])
    assert "/repairs/report/problem" in response.location


def test_tree_walk_to_a_leaf(app, world) -> None:
    client = client_for(app, world.tenant)
    with app.app_context():
        tap = leaf("Dripping tap")
        chain = [tap.parent.parent.parent, tap.parent.parent, tap.parent, tap]
        ids = [n.id for n in chain]
    url = f"/repairs/report/problem?property={world.home_id}"
    soup = check_html(client.get(url))
    assert soup.h1.get_text(strip=True) == "Where is the problem?"
    response = client.get(url + "&continue=1")
    assert error_summary(check_html(response)) == ["Select an option"]
    parent = None
    for node_id in ids:
        query = f"{url}&continue=1&node={node_id}" + (f"&parent={parent}" if parent else "")
        response = client.get(query)
        assert response.status_code == 302
        if node_id != ids[-1]:
            check_html(client.get(response.location))
        parent = node_id
    assert f"problem={ids[-1]}" in response.location


def _details(client, home_id, problem_id, files=(), **fields):  # noqa: ANN001, ANN202
    url = f"/repairs/report/details?property={home_id}&problem={problem_id}"
    data = {
        "csrf_token": csrf_token(client, url),
        "property": str(home_id),
        "problem": str(problem_id),
        "description": "The kitchen tap drips all night.",
        "access_notes": "Dog in the garden",
        "contact_preference": "email",
        "contact_phone": "",
    }
    data.update(fields)
    data["photos"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/repairs/report/details", data=data, content_type="multipart/form-data")


def test_report_with_photos_gets_reference_email_and_one_transaction(app, world) -> None:
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    response = _details(
        client, world.home_id, tap_id,
        files=[("tap.jpg", jpeg_with_gps()), ("sink.png", png_bytes(alpha=True))],
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = check_html(client.get(response.location))
    assert "Repair reported. Your reference is RP-" in page.get_text()
    with app.app_context():
        repair = db.session.scalar(select(Repair))
        assert repair.reference.startswith("RP-") and repair.priority == "routine"
        assert repair.trade == "plumbing" and not repair.communal
        assert len(repair.photos) == 2
        txs = db.session.scalars(select(ServiceTransaction)).all()
        assert [(t.kind, t.lgsl, t.lgil, t.channel, t.user_id) for t in txs] == [
            ("repair_report", 141, 0, "web", world.tenant.id)
        ]
        email = db.session.scalar(select(OutboxEmail))
        assert email.to_address == "tenant@example.com" and repair.reference in email.subject
        photo_ids = [p.id for p in repair.photos]
        reference = repair.reference
    for photo_id in photo_ids:
        for size in ("", "?size=thumb"):
            r = client.get(f"/repairs/{reference}/photos/{photo_id}{size}")
            assert r.status_code == 200 and r.mimetype == "image/jpeg"
            assert r.data[:3] == b"\xff\xd8\xff"


def test_communal_report_counts_on_lgsl_140(app, world) -> None:
    client = client_for(app, world.tenant)
    with app.app_context():
        node_id = leaf("Lift not working").id
    assert _details(client, world.home_id, node_id).status_code == 302
    with app.app_context():
        repair = db.session.scalar(select(Repair))
        assert repair.communal
        assert db.session.scalar(select(ServiceTransaction.lgsl)) == 140


def test_missing_answers_are_explained_and_kept(app, world) -> None:
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    response = _details(
        client, world.home_id, tap_id, description="", contact_preference="phone",
        access_notes="Ring twice",
    )  # fmt: skip
    soup = check_html(response)
    assert error_summary(soup) == [
        "Describe the problem",
        "Enter a UK phone number, like 01632 960 001",
    ]
    assert soup.find("textarea", id="access_notes").get_text() == "Ring twice"
    too_long = _details(client, world.home_id, tap_id, description="x" * 1001)
    assert "1000 characters or fewer" in error_summary(check_html(too_long))[0]


def test_refused_files_keep_the_rest_of_the_report(app, world) -> None:
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    response = _details(
        client, world.home_id, tap_id,
        files=[("good.jpg", jpeg_with_gps()), ("invoice.jpg", pdf), ("page.png", html)],
        description="Tap drips", access_notes="Side door",
    )  # fmt: skip
    assert response.status_code == 200
    soup = check_html(response)
    errors = error_summary(soup)
    assert errors == [
        "invoice.jpg must be a JPEG, PNG or HEIC photo",
        "page.png must be a JPEG, PNG or HEIC photo",
    ]
    assert soup.find("textarea", id="description").get_text() == "Tap drips"
    assert "good.jpg" in soup.find(id="photos-kept").get_text()
    token = soup.find("input", attrs={"name": "kept_photos"})["value"]
    # Sending again without new files keeps the accepted photo.
    response = _details(client, world.home_id, tap_id, kept_photos=token)
    assert response.status_code == 302
    with app.app_context():
        repair = db.session.scalar(select(Repair))
        assert [p.original_name for p in repair.photos] == ["good.jpg"]


def test_a_photo_added_by_mistake_can_be_removed_before_sending(app, world) -> None:
    from portal.common import storage

    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    soup = check_html(
        _details(
            client, world.home_id, tap_id, description="",
            files=[("tap.jpg", jpeg_with_gps()), ("selfie.png", png_bytes())],
        )
    )  # fmt: skip
    token = soup.find("input", attrs={"name": "kept_photos"})["value"]
    buttons = soup.select("button[name=remove_photo]")
    assert [b.get_text(" ", strip=True) for b in buttons] == [
        "Remove tap.jpg",
        "Remove selfie.png",
    ]
    selfie = buttons[1]["value"]
    with app.app_context():
        assert storage.path_for(selfie).exists()
    # Remove it (with JavaScript off this is the same form post): nothing else is checked yet,
    # and what was typed stays.
    soup = check_html(
        _details(
            client, world.home_id, tap_id, description="", access_notes="Side gate",
            kept_photos=token, remove_photo=selfie,
        )
    )  # fmt: skip
    assert error_summary(soup) == []
    assert soup.find(id="photo-removed").get_text() == "selfie.png removed."
    assert soup.find("textarea", id="access_notes").get_text() == "Side gate"
    assert [b.get_text(" ", strip=True) for b in soup.select("button[name=remove_photo]")] == [
        "Remove tap.jpg"
    ]
    with app.app_context():
        assert not storage.path_for(selfie).exists()
    # The first button of the form is the report, so Enter in a field sends it.
    first = soup.select_one("main form button[type=submit]")
    assert first.get_text() == "Report repair" and not first.get("name")
    token = soup.find("input", attrs={"name": "kept_photos"})["value"]
    response = _details(client, world.home_id, tap_id, kept_photos=token)
    assert response.status_code == 302
    with app.app_context():
        repair = db.session.scalar(select(Repair))
        assert [p.original_name for p in repair.photos] == ["tap.jpg"]


def test_the_photo_hint_states_the_limits(app, world) -> None:
    from portal.repairs.photos import HEIC_SUPPORTED, MAX_BYTES, MAX_PHOTOS

    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    soup = get_page(client, "repairs.details", property=world.home_id, problem=tap_id)
    hint = soup.find(id="photos-hint").get_text()
    assert f"up to {MAX_PHOTOS} photos" in hint
    assert f"smaller than {MAX_BYTES // (1024 * 1024)} MB" in hint
    assert ("JPEG, PNG or HEIC" if HEIC_SUPPORTED else "JPEG or PNG") in hint


def test_kept_photo_token_of_another_person_is_ignored(app, world) -> None:
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    response = _details(
        client, world.home_id, tap_id, files=[("a.jpg", jpeg_with_gps())], description=""
    )
    token = check_html(response).find("input", attrs={"name": "kept_photos"})["value"]
    other = client_for(app, world.other_tenant)
    assert _details(other, world.other_home_id, tap_id, kept_photos=token).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(RepairPhoto.id))) == 0


def test_more_than_five_photos_are_refused(app, world) -> None:
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    files = [(f"p{i}.png", png_bytes()) for i in range(6)]
    soup = check_html(_details(client, world.home_id, tap_id, files=files))
    assert error_summary(soup) == ["p5.png was not added: you can add up to 5 photos"]


def test_without_tenancy_the_tenant_is_sent_to_link(app, world) -> None:
    from tests.helpers.auth import make_user

    stranger = make_user(app, "stranger@example.com")
    client = client_for(app, stranger)
    response = client.get("/repairs/report")
    assert response.status_code == 302 and response.location.endswith("/repairs/link")
