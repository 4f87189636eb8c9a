"""The staff area: tiles by role, admins' accounts and roles pages, ending sessions, audit search,
and the authorisation matrix for this slice's routes."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import User
from portal.common.audit import record_audit
from portal.common.models import AuditEvent
from portal.extensions import db
from tests.accounts.helpers import emails_to, get_user, page, post_form, user_with_password
from tests.helpers.auth import client_for, make_user, sign_in
from tests.helpers.authz import AccessCase, assert_access_matrix
from tests.helpers.pages import error_summary, get_page


def _actions(app):  # noqa: ANN001, ANN202
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_dashboard_shows_only_the_tiles_roles_allow(app):
    # Only the staff area's own tiles plus the ones below, whatever other slices registered.
    sections = app.extensions["portal_staff_sections"]
    sections[:] = [s for s in sections if s["endpoint"].startswith("staff.")]
    app.extensions["portal_staff_sections"].append(
        {
            "title": "Repairs board",
            "endpoint": "staff.dashboard",
            "roles": ("housing",),
            "description": "Triage",
        }
    )
    app.extensions["portal_staff_sections"].append(
        {"title": "Not installed", "endpoint": "nowhere.index", "roles": ("housing",)}
    )
    housing = client_for(app, make_user(app, roles=("housing",)))
    soup = get_page(housing, "staff.dashboard")
    titles = [h.get_text(strip=True) for h in soup.select(".staff-tile h2")]
    assert titles == ["Repairs board"]
    admin = client_for(app, make_user(app, roles=("admin", "housing")))
    soup = get_page(admin, "staff.dashboard")
    titles = [h.get_text(strip=True) for h in soup.select(".staff-tile h2")]
    assert titles == ["Audit log", "Repairs board", "Staff accounts and roles"]
    library = client_for(app, make_user(app, roles=("library",)))
    soup = get_page(library, "staff.dashboard")
    assert "nothing in the staff area" in soup.get_text()
    resident = client_for(app, make_user(app))
    assert resident.get("/staff/").status_code == 403


def test_admin_adds_staff_who_gets_a_set_password_link(app):
    admin = client_for(app, make_user(app, roles=("admin",)))
    get_page(admin, "staff.new_user")
    soup = page(
        post_form(admin, "/staff/accounts/new", {"display_name": "", "email": "x", "roles": []})
    )
    assert error_summary(soup) == [
        "Enter their full name",
        "Enter an email address in the correct format, like name@example.com",
        "Select at least one role",
    ]
    response = post_form(
        admin,
        "/staff/accounts/new",
        {"display_name": "Nia Khan", "email": "nia@example.com", "roles": ["planning", "officer"]},
    )
    assert response.status_code == 302
    person = get_user(app, "nia@example.com")
    assert person.roles == {"planning", "officer"}
    (email,) = emails_to(app, "nia@example.com")
    assert "/reset-password/" in email.body_text
    soup = page(
        post_form(
            admin,
            "/staff/accounts/new",
            {"display_name": "N", "email": "nia@example.com", "roles": ["officer"]},
        )
    )
    assert "already an account" in error_summary(soup)[0]
    assert "staff.account_created" in [e.action for e in _actions(app)]


def test_role_changes_are_audited_and_removal_ends_sessions(app):
    admin_user = make_user(app, roles=("admin",))
    admin = client_for(app, admin_user)
    person = make_user(app, email="editor@example.com", roles=("editor",))
    theirs = client_for(app, person)
    assert theirs.get("/staff/").status_code == 200
    soup = get_page(admin, "staff.user", user_id=person.id)
    assert soup.find("input", attrs={"value": "editor", "checked": True})
    url = f"/staff/accounts/{person.id}/roles"
    token_url = f"/staff/accounts/{person.id}"
    post_form(admin, url, {"roles": ["editor", "manager"]}, token_url=token_url)
    assert get_user(app, "editor@example.com").roles == {"editor", "manager"}
    assert theirs.get("/staff/").status_code == 200  # adding a role keeps them signed in
    post_form(admin, url, {"roles": ["manager"]}, token_url=token_url)
    assert get_user(app, "editor@example.com").roles == {"manager"}
    assert theirs.get("/staff/").status_code == 302  # removing one signs them out
    events = [e for e in _actions(app) if e.action == "staff.roles_changed"]
    assert [e.details for e in events] == [
        {"email": "editor@example.com", "added": ["manager"], "removed": []},
        {"email": "editor@example.com", "added": [], "removed": ["editor"]},
    ]
    assert all(e.actor_id == admin_user.id for e in events)
    assert "account.sessions_revoked" in [e.action for e in _actions(app)]
    # Bad choices are refused in words, not a 500.
    soup = page(post_form(admin, url, {"roles": ["emperor"]}, token_url=token_url))
    assert error_summary(soup)
    # An admin cannot remove their own admin role.
    soup = page(
        post_form(
            admin,
            f"/staff/accounts/{admin_user.id}/roles",
            {"roles": []},
            token_url=f"/staff/accounts/{admin_user.id}",
        )
    )
    assert "cannot remove your own admin role" in error_summary(soup)[0]


def test_admin_ends_sessions_disables_and_enables(app):
    admin = client_for(app, make_user(app, roles=("admin",)))
    person = user_with_password(app, "target@example.com")
    theirs = client_for(app, person)
    token_url = f"/staff/accounts/{person.id}"
    assert theirs.get("/my").status_code == 200
    post_form(admin, f"/staff/accounts/{person.id}/end-sessions", {}, token_url=token_url)
    assert theirs.get("/my").status_code == 302
    sign_in(theirs, person)
    post_form(admin, f"/staff/accounts/{person.id}/disable", {}, token_url=token_url)
    assert theirs.get("/my").status_code == 302
    assert get_user(app, "target@example.com").disabled_at is not None
    post_form(admin, f"/staff/accounts/{person.id}/enable", {}, token_url=token_url)
    assert get_user(app, "target@example.com").disabled_at is None
    actions = [e.action for e in _actions(app)]
    assert actions.count("account.sessions_revoked") == 2
    assert {"account.disabled", "account.enabled"} <= set(actions)


def test_admin_resets_two_factor(app):
    admin = client_for(app, make_user(app, roles=("admin",)))
    person = make_user(app, roles=("finance",))
    with app.app_context():
        from portal.accounts.services import enrol_totp, new_totp_secret

        enrol_totp(db.session.get(User, person.id), new_totp_secret())
        db.session.commit()
    soup = get_page(admin, "staff.user", user_id=person.id)
    assert soup.find("form", action=f"/staff/accounts/{person.id}/reset-two-factor")
    post_form(
        admin,
        f"/staff/accounts/{person.id}/reset-two-factor",
        {},
        token_url=f"/staff/accounts/{person.id}",
    )
    with app.app_context():
        assert db.session.get(User, person.id).totp_secret is None


def test_staff_list_and_search(app):
    admin = client_for(app, make_user(app, roles=("admin",)))
    make_user(app, email="housing.lead@example.com", roles=("housing",))
    make_user(app, email="resident.only@example.com")
    soup = get_page(admin, "staff.users")
    text = soup.get_text()
    assert "housing.lead@example.com" in text and "resident.only@example.com" not in text
    soup = get_page(admin, "staff.users", q="resident", show="all")
    assert "resident.only@example.com" in soup.get_text()
    soup = get_page(admin, "staff.users", q="zzz-nobody")
    assert "No accounts match." in soup.get_text()


def test_audit_log_search(app):
    admin = client_for(app, make_user(app, email="auditor@example.com", roles=("admin",)))
    soup = get_page(admin, "staff.audit")
    assert "The audit log is empty." in soup.get_text()
    with app.app_context():
        record_audit("repairs.priority_changed", "repair", "RP-1", {"to": "urgent"})
        record_audit("payments.refunded", "payment", "PY-2", {"amount": 500})
        db.session.commit()
    soup = get_page(admin, "staff.audit")
    assert len(soup.select("tbody tr")) == 2
    soup = get_page(admin, "staff.audit", q="RP-1")
    rows = soup.select("tbody tr")
    assert len(rows) == 1 and "repairs.priority_changed" in rows[0].get_text()
    soup = get_page(admin, "staff.audit", action="payments.refunded")
    assert len(soup.select("tbody tr")) == 1
    soup = get_page(admin, "staff.audit", q="nothing-like-this")
    assert "No events match your search." in soup.get_text()
    get_page(admin, "staff.audit", page="x")  # bad input is not a 500


def test_staff_sign_in_is_audited_but_residents_are_not(app):
    user_with_password(app, "staff-in@example.com", roles=("editor",))
    user_with_password(app, "res-in@example.com")
    from tests.accounts.helpers import sign_in_with_form

    sign_in_with_form(app.test_client(), "staff-in@example.com")
    sign_in_with_form(app.test_client(), "res-in@example.com")
    events = [e for e in _actions(app) if e.action == "staff.sign_in"]
    assert [e.actor_email for e in events] == ["staff-in@example.com"]


def test_authorisation_matrix(app):
    owner = make_user(app, email="owner@example.com")
    actors = {
        "owner": owner,
        "other_resident": make_user(app, email="other@example.com"),
        "staff_with_role": make_user(app, email="admin@example.com", roles=("admin",)),
        "staff_without_role": make_user(app, email="editor@example.com", roles=("editor",)),
        "anonymous": None,
    }
    admin_only = {
        "owner": 403,
        "other_resident": 403,
        "staff_with_role": 200,
        "staff_without_role": 403,
        "anonymous": 302,
    }
    admin_post = {**admin_only, "staff_with_role": 302}
    signed_in = {
        "owner": 200,
        "other_resident": 200,
        "staff_with_role": 200,
        "staff_without_role": 200,
        "anonymous": 302,
    }
    staff_only = {
        "owner": 403,
        "other_resident": 403,
        "staff_with_role": 200,
        "staff_without_role": 200,
        "anonymous": 302,
    }
    oid = owner.id
    # Buttons that change the account go to a bystander, so the actors stay signed in.
    tid = make_user(app, email="target@example.com").id
    cases = [
        AccessCase("GET", "/my", signed_in),
        AccessCase("GET", "/my/data", signed_in),
        AccessCase("GET", "/my/change-password", signed_in),
        AccessCase("GET", "/my/change-email", signed_in),
        AccessCase("GET", "/my/delete", signed_in),
        AccessCase("GET", "/staff/", staff_only),
        AccessCase("GET", "/staff/accounts", admin_only),
        AccessCase("GET", "/staff/accounts/new", admin_only),
        AccessCase("GET", f"/staff/accounts/{oid}", admin_only),
        AccessCase("GET", "/staff/audit", admin_only),
        AccessCase("POST", f"/staff/accounts/{tid}/roles", admin_post, data={"roles": []}),
        AccessCase("POST", f"/staff/accounts/{tid}/end-sessions", admin_post),
        AccessCase("POST", f"/staff/accounts/{tid}/reset-two-factor", admin_post),
        AccessCase("POST", f"/staff/accounts/{tid}/disable", admin_post),
        AccessCase("POST", f"/staff/accounts/{tid}/enable", admin_post),
    ]
    assert_access_matrix(app, actors, cases)
    # The owner's own account page in the staff area is an admin's business, not theirs.
    assert client_for(app, owner).get(f"/staff/accounts/{oid}").status_code == 403
    assert (
        client_for(app, actors["staff_with_role"]).get("/staff/accounts/999999").status_code == 404
    )
