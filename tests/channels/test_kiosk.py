"""Kiosk enrolment, kiosk mode, idle reset, revocation."""

from __future__ import annotations

import re
from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import select, update

from portal.accounts.models import UserSession
from portal.channels.kiosk import DEVICE_COOKIE, reap_idle_sessions, token_hash
from portal.channels.models import KioskDevice, KioskSession
from portal.common.models import AuditEvent, ServiceTransaction, utcnow
from portal.common.transactions import record_transaction
from portal.extensions import db
from tests.channels.helpers import enrol, kiosk_client
from tests.helpers.auth import client_for, make_user, sign_in
from tests.helpers.pages import check_html, csrf_token, error_summary


def _set_cookies(response) -> list[str]:  # noqa: ANN001
    return response.headers.getlist("Set-Cookie")


def test_library_staff_enrol_this_computer_and_are_signed_out(app):
    staff = make_user(app, roles=("library",), name="Tom Bright")
    client = client_for(app, staff)
    token = csrf_token(client, "/staff/kiosks")
    response = client.post(
        "/staff/kiosks",
        data={
            "csrf_token": token,
            "library": "Castlebrook Central Library",
            "terminal": "Terminal 1",
        },
    )
    assert response.status_code == 200
    soup = check_html(response)
    assert soup.select_one("#assist-code") is None  # never on the public screen
    device_cookie = next(c for c in _set_cookies(response) if c.startswith(f"{DEVICE_COOKIE}="))
    assert "HttpOnly" in device_cookie and "Max-Age=34560000" in device_cookie
    assert device_cookie.split("=", 1)[1].startswith("castlebrook-central-library.")
    with app.app_context():
        device = db.session.scalar(select(KioskDevice))
        assert device.library == "Castlebrook Central Library" and device.enrolled_by_id == staff.id
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "kiosk.enrolled"))
        assert db.session.scalar(select(UserSession.revoked_at)) is not None
    # The same browser is now a kiosk, and no longer signed in as staff.
    page = client.get("/kiosk")
    soup = check_html(page)
    assert "portal-kiosk" in soup.html["class"]
    assert soup.find("button", string="Start again")
    assert soup.find("a", string="Ask for help")
    assert client.get("/staff/kiosks").status_code in (302, 401)  # sign-in (accounts slice)


def test_enrolment_needs_a_library_and_terminal_name(app):
    client = client_for(app, make_user(app, roles=("library",)))
    token = csrf_token(client, "/staff/kiosks")
    response = client.post(
        "/staff/kiosks", data={"csrf_token": token, "library": " ", "terminal": ""}
    )
    assert response.status_code == 400
    messages = error_summary(check_html(response))
    assert messages == [
        "Enter the name of the library",
        "Enter a name for this terminal, for example Terminal 1",
    ]
    assert DEVICE_COOKIE not in " ".join(_set_cookies(response))


def test_kiosk_mode_has_no_persistent_cookie_but_the_device_and_no_autocomplete(app):
    _, cookie, _ = enrol(app)
    client = kiosk_client(app, cookie)
    response = client.get("/kiosk")
    assert response.headers["Cache-Control"] == "no-store"
    for header in _set_cookies(response):
        if not header.startswith(f"{DEVICE_COOKIE}="):
            assert "Expires=" not in header and "Max-Age" not in header, header
    soup = check_html(client.get("/kiosk/assist"))
    assert all(form.get("autocomplete") == "off" for form in soup.find_all("form"))
    # Not a kiosk: the normal header, no kiosk class.
    soup = check_html(app.test_client().get("/kiosk"))
    assert "portal-kiosk" not in soup.html["class"]


def test_kiosk_requests_record_the_kiosk_channel(app):
    _, cookie, _ = enrol(app)
    app.config["WTF_CSRF_ENABLED"] = False  # a bare POST context stands in for a slice's form
    headers = {"Cookie": f"{DEVICE_COOKIE}={cookie}"}
    with app.test_request_context("/kiosk", method="POST", headers=headers):
        app.preprocess_request()
        record_transaction("test", 57, 2, "T-1")
        db.session.commit()
    with app.test_request_context("/kiosk", method="POST"):
        app.preprocess_request()
        record_transaction("test", 57, 2, "T-2")
        db.session.commit()
    with app.app_context():
        channels = dict(
            db.session.execute(
                select(ServiceTransaction.object_ref, ServiceTransaction.channel)
            ).all()
        )
    assert channels == {"T-1": "kiosk", "T-2": "web"}


def test_a_revoked_device_drops_out_of_kiosk_mode(app):
    device_id, cookie, _ = enrol(app)
    kiosk = kiosk_client(app, cookie)
    assert "portal-kiosk" in check_html(kiosk.get("/kiosk")).html["class"]
    staff = client_for(app, make_user(app, roles=("library",)))
    token = csrf_token(staff, "/staff/kiosks")
    response = staff.post(f"/staff/kiosks/{device_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    response = kiosk.get("/kiosk")
    assert "portal-kiosk" not in check_html(response).html["class"]
    deletion = next(c for c in _set_cookies(response) if c.startswith(f"{DEVICE_COOKIE}="))
    assert "Max-Age=0" in deletion or "1970" in deletion
    with app.app_context():
        assert db.session.scalar(select(KioskSession.end_reason)) == "revoked"


def test_a_forged_or_mismatched_token_is_not_a_kiosk(app):
    _, cookie, _ = enrol(app)
    slug, token = cookie.split(".", 1)
    for value in (f"other-library.{token}", f"{slug}.not-the-token", "garbage"):
        soup = check_html(kiosk_client(app, value).get("/kiosk"))
        assert "portal-kiosk" not in soup.html["class"], value


def _age_kiosk_sessions(app, seconds: int) -> None:  # noqa: ANN001
    with app.app_context():
        db.session.execute(
            update(KioskSession).values(last_activity_at=utcnow() - timedelta(seconds=seconds))
        )
        db.session.commit()


def test_the_server_ends_an_idle_kiosk_session_without_javascript(make_app):
    app = make_app(kiosk_idle_seconds=180, kiosk_warning_seconds=60, kiosk_touch_seconds=0)
    _, cookie, _ = enrol(app)
    resident = make_user(app, name="Ada Resident")
    client = kiosk_client(app, cookie)
    client.get("/kiosk")
    sign_in(client, resident)
    soup = check_html(client.get("/kiosk"))
    assert "Signed in as Ada Resident" in soup.get_text()
    _age_kiosk_sessions(app, 239)
    assert client.get("/kiosk").status_code == 200  # 3 minutes 59 seconds: not yet
    _age_kiosk_sessions(app, 241)
    response = client.get("/kiosk/help")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/kiosk?ended=idle")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    with app.app_context():
        assert db.session.scalar(select(UserSession.revoked_at)) is not None
        assert (
            db.session.scalar(select(KioskSession.end_reason).order_by(KioskSession.id)) == "idle"
        )
    soup = check_html(client.get("/kiosk?ended=idle"))
    assert "Ada Resident" not in soup.get_text()
    assert soup.select_one("#kiosk-ended")


def test_start_again_ends_everything_at_once(app):
    _, cookie, _ = enrol(app)
    resident = make_user(app, name="Ada Resident")
    client = kiosk_client(app, cookie)
    client.get("/kiosk")
    sign_in(client, resident)
    token = csrf_token(client, "/kiosk")
    client.set_cookie("someone_elses", "x", domain="localhost")
    response = client.post("/kiosk/start-again", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    cookies = " ".join(_set_cookies(response))
    assert "someone_elses=;" in cookies
    assert f"{DEVICE_COOKIE}=;" not in cookies
    with app.app_context():
        assert db.session.scalar(select(UserSession.revoked_at)) is not None
        assert db.session.scalar(select(KioskSession.end_reason)) == "start_again"
    assert "Ada Resident" not in check_html(client.get("/kiosk")).get_text()
    assert client.get_cookie(DEVICE_COOKIE) is not None


def test_the_reaper_ends_idle_sessions_with_no_request(make_app):
    app = make_app(kiosk_idle_seconds=1, kiosk_warning_seconds=1, kiosk_touch_seconds=0)
    _, cookie, _ = enrol(app)
    client = kiosk_client(app, cookie)
    client.get("/kiosk")
    sign_in(client, make_user(app))
    client.get("/kiosk")
    with app.app_context():
        assert reap_idle_sessions() == 0
    _age_kiosk_sessions(app, 5)
    with app.app_context():
        assert reap_idle_sessions() == 1
        assert db.session.scalar(select(UserSession.revoked_at)) is not None


def test_still_here_keeps_the_session_alive(make_app):
    app = make_app(kiosk_idle_seconds=180, kiosk_warning_seconds=60, kiosk_touch_seconds=0)
    _, cookie, _ = enrol(app)
    client = kiosk_client(app, cookie)
    token = csrf_token(client, "/kiosk")
    _age_kiosk_sessions(app, 200)
    response = client.post(
        "/kiosk/still-here", data={"csrf_token": token}, headers={"X-Kiosk-Ping": "1"}
    )
    assert response.status_code == 204
    _age_kiosk_sessions(app, 0)
    response = client.post("/kiosk/still-here", data={"csrf_token": token, "next": "/kiosk/help"})
    assert response.headers["Location"] == "/kiosk/help"
    response = client.post(
        "/kiosk/still-here", data={"csrf_token": token, "next": "//evil.example"}
    )
    assert response.headers["Location"] == "/kiosk"


def test_high_contrast_on_request(app):
    _, cookie, _ = enrol(app)
    client = kiosk_client(app, cookie)
    token = csrf_token(client, "/kiosk")
    client.post("/kiosk/contrast", data={"csrf_token": token, "next": "/kiosk"})
    soup = check_html(client.get("/kiosk"))
    assert "portal-kiosk--contrast" in soup.html["class"]
    assert soup.find("button", attrs={"aria-pressed": "true"})


def test_kiosk_only_pages_are_not_found_elsewhere(client):
    assert client.get("/kiosk/help").status_code == 404
    assert client.get("/kiosk/assist").status_code == 404


def test_a_permanent_session_is_not_kept_on_a_kiosk(app):
    from flask import session

    @app.get("/_test/remember-me")
    def _remember():  # noqa: ANN202
        session.permanent = True
        session["x"] = 1
        return "ok"

    _, cookie, _ = enrol(app)
    response = kiosk_client(app, cookie).get("/_test/remember-me")
    session_header = next(c for c in _set_cookies(response) if c.startswith("session="))
    assert "Expires=" not in session_header
    response = app.test_client().get("/_test/remember-me")
    assert "Expires=" in next(c for c in _set_cookies(response) if c.startswith("session="))


def test_library_and_terminal_names_show_as_text_everywhere(app):
    """Names typed by staff are text: on the enrolment panel, the kiosk list and the kiosk."""
    library = "<img src=x onerror=alert(1)>"
    terminal = '<script>alert("t")</script>'
    staff = make_user(app, roles=("library",))
    client = client_for(app, staff)
    token = csrf_token(client, "/staff/kiosks")
    response = client.post(
        "/staff/kiosks", data={"csrf_token": token, "library": library, "terminal": terminal}
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<img src=x" not in body and '<script>alert("t")' not in body
    soup = check_html(response, read_text=False)  # the names typed look like markup, on purpose
    assert soup.select_one(".govuk-panel__body").get_text(strip=True) == f"{library}, {terminal}"
    pages = [
        check_html(
            client_for(app, make_user(app, roles=("library",))).get("/staff/kiosks"),
            read_text=False,
        ),
        check_html(client.get("/kiosk"), read_text=False),  # the enrolled terminal's own header
    ]
    for page in pages:
        assert page.find("img", src="x") is None
        assert not [s for s in page.find_all("script") if "alert" in s.get_text()]
        assert library in page.get_text()


# Input types autofill never fills; every other field must carry autocomplete="off" on a kiosk.
NOT_AUTOFILLED = {"hidden", "checkbox", "radio", "file", "submit", "image", "reset", "button"}


def personal_autocomplete(soup) -> list[str]:  # noqa: ANN001
    """Forms and fields of a page that a browser could fill from what it remembers."""
    found = []
    for tag in soup.find_all(["form", "input", "select", "textarea"]):
        if tag.name == "input" and (tag.get("type") or "text").lower() in NOT_AUTOFILLED:
            continue
        if tag.get("autocomplete") != "off":
            found.append(
                f"<{tag.name} name={tag.get('name')} autocomplete={tag.get('autocomplete')}>"
            )
    return found


def _kiosk_pages(app) -> list[str]:  # noqa: ANN001
    """Every page without URL arguments, and the pages of a form with personal fields."""
    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.online_forms.demo import load_demo_forms

    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    pages = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and not rule.arguments
    )
    return [*pages, "/forms/address-lookup?field=address&postcode=CK1+1AB", "/repairs/link"]


def test_every_field_on_every_kiosk_page_has_autocomplete_off(app):
    """Field-level values ("email", "postal-code", "current-password") override the form's
    "off", so the server rewrites each field on a kiosk, with or without JavaScript."""
    pages = _kiosk_pages(app)
    _, cookie, _ = enrol(app)
    visitor = kiosk_client(app, cookie)
    resident = kiosk_client(app, cookie)
    sign_in(resident, make_user(app, name="Ada Resident"))
    elsewhere = client_for(app, None)
    problems, checked_fields, personal_elsewhere = [], 0, 0
    for url in pages:
        for client in (visitor, resident):
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
            checked_fields += len(soup.find_all(["input", "select", "textarea"]))
            problems.extend(f"{url}: {p}" for p in personal_autocomplete(soup))
        normal = elsewhere.get(url)
        if normal.status_code == 200 and normal.mimetype == "text/html":
            soup = BeautifulSoup(normal.get_data(as_text=True), "html.parser")
            personal_elsewhere += len(personal_autocomplete(soup))
    assert checked_fields > 50  # the walk saw the sign-in, register, payment and form fields
    assert personal_elsewhere > 5  # the same pages off a kiosk do ask for autofill
    assert not problems, "\n".join(problems)
    # The rewritten pages stay valid HTML (no attribute twice, nothing broken).
    for url in ("/sign-in", "/register", "/pay", "/planning/alerts", "/repairs/link"):
        check_html(visitor.get(url))


def test_the_assistance_code_is_never_shown_on_the_kiosk(app):
    staff = make_user(app, roles=("library",))
    client = client_for(app, staff)
    token = csrf_token(client, "/staff/kiosks")
    enrolled = client.post(
        "/staff/kiosks",
        data={"csrf_token": token, "library": "Mill Road Library", "terminal": "T1"},
    )
    assert enrolled.status_code == 200
    soup = check_html(enrolled)
    assert soup.select_one("#assist-code") is None
    with app.app_context():
        device = db.session.scalar(select(KioskDevice))
        code_hash, device_id = device.assist_code_hash, device.id
    shown = set(re.findall(r"\b[A-Z2-9]{6}\b", enrolled.get_data(as_text=True)))
    assert all(token_hash(word) != code_hash for word in shown)
    # Library staff signed in on a kiosk are not offered a new code there, nor given one.
    device_cookie = next(c for c in _set_cookies(enrolled) if c.startswith(f"{DEVICE_COOKIE}="))
    on_kiosk = kiosk_client(app, device_cookie.split(";")[0].split("=", 1)[1])
    sign_in(on_kiosk, staff)
    page = check_html(on_kiosk.get("/staff/kiosks"))
    assert page.find("button", string=re.compile("New assistance code")) is None
    refused = on_kiosk.post(
        f"/staff/kiosks/{device_id}/code",
        data={"csrf_token": csrf_token(on_kiosk, "/staff/kiosks")},
    )
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(KioskDevice, device_id).assist_code_hash == code_hash
    # From a staff computer the code is issued and works.
    desk = client_for(app, make_user(app, roles=("library",)))
    issued = desk.post(
        f"/staff/kiosks/{device_id}/code", data={"csrf_token": csrf_token(desk, "/staff/kiosks")}
    )
    code = check_html(issued).select_one("#assist-code").get_text(strip=True)
    with app.app_context():
        assert token_hash(code) == db.session.get(KioskDevice, device_id).assist_code_hash
