"""Acting for a caller: the identity check, each role kept to its own slice, the resident's record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.channels.models import ActingSession
from portal.common.clock import frozen_at
from portal.common.models import AuditEvent
from portal.extensions import db
from tests.channels.test_acting import ACT, _start
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary

# One resident screen of each slice, and the pages every acting role may open.
SLICE_PAGES = {
    "forms": "/consultations",
    "repairs": "/repairs",
    "planning": "/planning",
    "payments": "/pay",
    "api": "/api/v1/services",
}
GENERAL_PAGES = ["/my", "/services", "/"]
# The table in docs/security.md: which slices each role reaches while acting.
TABLE = [
    (("officer",), {"forms"}, "officer staff"),
    (("library",), {"forms"}, "library staff"),
    (("housing",), {"repairs"}, "housing staff"),
    (("planning",), {"planning"}, "planning staff"),
    (("finance",), {"payments"}, "finance staff"),
    (("admin",), set(SLICE_PAGES), "admin staff"),
    (("housing", "planning"), {"repairs", "planning"}, "housing and planning staff"),
]


@pytest.mark.parametrize("roles,reached,phrase", TABLE, ids=["+".join(r[0]) for r in TABLE])
def test_each_role_reaches_only_its_own_slice_while_acting(app, roles, reached, phrase):
    staff = make_user(app, roles=roles, name="Sam Staff")
    resident = make_user(app, name="Ada Lovelace")
    client = client_for(app, staff)
    _start(client, resident)
    failures = []
    for slice_name, url in SLICE_PAGES.items():
        response = client.get(url)
        expected = 200 if slice_name in reached else 403
        if response.status_code != expected:
            failures.append(f"{slice_name} {url}: {response.status_code}, expected {expected}")
        elif expected == 403:
            soup = check_html(response)
            assert soup.select_one("#acting-scope-text").get_text(" ", strip=True) == (
                f"You are acting for Ada Lovelace as {phrase}: this page is not available."
            )
            assert soup.select_one("#acting-banner") is not None
    for url in GENERAL_PAGES:
        status = client.get(url).status_code
        if status != 200:
            failures.append(f"general {url}: {status}, expected 200")
    assert not failures, "\n".join(failures)


def _headings(client) -> list[str]:  # noqa: ANN001
    soup = check_html(client.get("/my"))
    return [h.get_text(strip=True) for h in soup.select("main h2")]


def test_my_council_shows_only_the_sections_of_the_acting_role(app):
    resident = make_user(app, name="Ada Lovelace")
    everything = _headings(client_for(app, resident))
    assert {"Your payments", "Your forms", "Your repairs", "Your planning alerts"} <= set(
        everything
    )
    expected = {
        "housing": {"Your repairs"},
        "finance": {"Your payments"},
        "officer": {"Your forms"},
        "planning": {"Your planning alerts"},
        "admin": {"Your payments", "Your forms", "Your repairs", "Your planning alerts"},
    }
    for role, sections in expected.items():
        client = client_for(app, make_user(app, roles=(role,)))
        _start(client, resident)
        shown = _headings(client)
        hidden = {"Your payments", "Your forms", "Your repairs", "Your planning alerts"} - sections
        assert sections <= set(shown) and not hidden & set(shown), (role, shown)
        assert "Staff who acted for you" in shown
    assert _headings(client_for(app, resident)) == everything  # the resident still sees all


def test_a_write_outside_the_slice_is_refused_and_changes_nothing(app):
    from portal.planning.models import PlanningComment
    from tests.planning.conftest import make_application

    housing = make_user(app, roles=("housing",), name="Hana Housing")
    resident = make_user(app, name="Ada Lovelace")
    with app.app_context():
        slug = make_application().slug
        db.session.commit()
    client = client_for(app, housing)
    _start(client, resident)
    token = csrf_token(client, "/my")
    refused = client.post(
        f"/planning/applications/{slug}/comments",
        data={"csrf_token": token, "name": "Ada", "address": "3 Mill Lane", "stance": "support",
              "text": "A good use of the site"},
    )  # fmt: skip
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(PlanningComment.id)) is None


def _post_start(client, resident, **extra: str):  # noqa: ANN001, ANN202
    data = {"q": "ada", "resident": str(resident.id), "channel": "phone", **extra}
    return client.post(f"{ACT}/start", data={"csrf_token": csrf_token(client, ACT), **data})


def test_starting_needs_the_identity_check(app):
    officer = make_user(app, roles=("officer",), name="Priya Shah")
    resident = make_user(app, name="Ada Lovelace")
    client = client_for(app, officer)

    missing = _post_start(client, resident)
    assert missing.status_code == 400
    soup = check_html(missing)
    assert soup.h1.get_text(strip=True) == "Check who you are acting for"
    assert error_summary(soup) == ["Select how you checked who the caller is"]
    assert soup.select_one("#identity_check-error") is not None
    assert soup.select_one("input[name=resident]")["value"] == str(resident.id)

    too_long = _post_start(client, resident, identity_check="made up", identity_detail="x" * 201)
    assert too_long.status_code == 400
    soup = check_html(too_long)
    assert error_summary(soup) == [
        "Select how you checked who the caller is",
        "The details of the identity check must be 200 characters or fewer",
    ]
    assert soup.select_one("#identity_detail")["value"] == "x" * 201  # nothing typed is lost
    with app.app_context():
        assert db.session.scalar(select(ActingSession.id)) is None

    ok = _post_start(
        client, resident, identity_check="reference", identity_detail=" Council tax bill CT-123 "
    )
    assert ok.status_code == 303
    with app.app_context():
        row = db.session.scalars(select(ActingSession)).one()
        assert (row.identity_check, row.identity_detail) == ("reference", "Council tax bill CT-123")
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "acting.started"))
        assert event.actor_id == officer.id
        assert event.details["identity_check"] == "reference"
        assert event.details["identity_detail"] == "Council tax bill CT-123"


def test_my_council_lists_who_acted_when_and_how_they_were_checked(app):
    officer = make_user(app, roles=("officer",), name="Priya Shah")
    resident = make_user(app, name="Ada Lovelace")
    resident_client = client_for(app, resident)
    client = client_for(app, officer)
    with frozen_at(datetime(2026, 6, 1, 8, 30, tzinfo=UTC)):
        _start(client, resident, "phone", check="reference", detail="Council tax bill CT-123")
    with frozen_at(datetime(2026, 6, 1, 8, 45, tzinfo=UTC)):
        client.post(f"{ACT}/end", data={"csrf_token": csrf_token(client, "/my")})
    with frozen_at(datetime(2026, 6, 2, 13, 5, tzinfo=UTC)):
        _start(client, resident, "face_to_face", check="known_in_person")

    soup = check_html(resident_client.get("/my"))
    heading = soup.find("h2", string="Staff who acted for you")
    assert heading is not None
    items = [li.get_text(" ", strip=True) for li in heading.find_next("ul").find_all("li")]
    assert items == [
        "Priya Shah (officer staff) is acting for you face to face, since 2 June 2026 at "
        "2:05pm. Identity check: Known to me, or face to face with photo ID.",
        "Priya Shah (officer staff) acted for you on a phone call, from 1 June 2026 at 9:30am "
        "to 9:45am. Identity check: Quoted a reference we sent them (Council tax bill CT-123).",
    ]
    # A resident nobody acted for sees the heading with nothing under it.
    other = check_html(client_for(app, make_user(app)).get("/my"))
    assert other.find("h2", string="Staff who acted for you").find_next("p").get_text(
        strip=True
    ) == ("Nothing yet.")
