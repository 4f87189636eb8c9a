"""Acting for a caller: staff use the resident screens as the resident, counted on their channel."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.accounts.models import User, UserSession
from portal.channels.models import ActingSession
from portal.common.models import Address, AuditEvent, ServiceTransaction, utcnow
from portal.extensions import db
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary

ACT = "/staff/callers"


def _start(
    client: FlaskClient,
    resident: User,
    channel: str = "phone",
    q: str = "x",
    check: str = "security_questions",
    detail: str = "",
) -> None:
    token = csrf_token(client, ACT)
    confirm = client.post(
        ACT, data={"csrf_token": token, "q": q, "resident": str(resident.id), "channel": channel}
    )
    assert confirm.status_code == 200, confirm.get_data(as_text=True)[:2000]
    soup = check_html(confirm)
    assert soup.select_one("#confirm-resident").get_text(strip=True) == resident.display_name
    started = client.post(
        f"{ACT}/start",
        data={
            "csrf_token": token,
            "q": q,
            "resident": str(resident.id),
            "channel": channel,
            "identity_check": check,
            "identity_detail": detail,
        },
    )
    assert started.status_code == 303, started.get_data(as_text=True)[:2000]


def _banner(client: FlaskClient, url: str = "/my") -> str | None:
    soup = check_html(client.get(url))
    node = soup.select_one("#acting-banner-text")
    return node.get_text(" ", strip=True) if node else None


def _transactions(app) -> list[tuple]:  # noqa: ANN001
    with app.app_context():
        return [
            (t.kind, t.channel, t.user_id, t.staff_id)
            for t in db.session.scalars(select(ServiceTransaction).order_by(ServiceTransaction.id))
        ]


@pytest.fixture
def people(app):  # noqa: ANN001, ANN201
    officer = make_user(app, "priya@example.com", roles=("officer",), name="Priya Shah")
    resident = make_user(app, "ada@example.com", name="Ada Lovelace")
    return officer, resident


def test_who_may_act(app, people):
    officer, resident = people
    assert client_for(app, None).get(ACT).status_code == 302  # to sign-in
    assert client_for(app, resident).get(ACT).status_code == 403
    for role in ("editor", "manager"):
        assert client_for(app, make_user(app, roles=(role,))).get(ACT).status_code == 403
    for role in ("officer", "library", "admin", "housing", "planning", "finance"):
        assert client_for(app, make_user(app, roles=(role,))).get(ACT).status_code == 200
    # A resident cannot start acting even with a valid CSRF token of their own.
    rc = client_for(app, resident)
    token = csrf_token(rc, "/my")
    refused = rc.post(
        f"{ACT}/start", data={"csrf_token": token, "resident": "1", "channel": "phone"}
    )
    assert refused.status_code == 403
    # And no POST is accepted without the CSRF token.
    oc = client_for(app, officer)
    no_token = oc.post(f"{ACT}/start", data={"resident": str(resident.id), "channel": "phone"})
    assert no_token.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(ActingSession.id)) is None


def test_find_by_name_email_and_tenancy_address(app, people):
    from portal.repairs.models import Property, Tenancy

    officer, resident = people
    tenant = make_user(app, "tenant@example.com", name="Tom Tenant")
    former = make_user(app, "former@example.com", name="Fay Former")
    make_user(app, "ada.staff@example.com", roles=("planning",), name="Ada Staff")
    with app.app_context():
        for uprn, line1, postcode, user, end in (
            ("100000000012", "12 Abbey Road", "CK1 2AB", tenant, None),
            ("100000000013", "14 Abbey Road", "CK1 2AD", former, date(2020, 1, 1)),
        ):
            db.session.add(
                Address(
                    uprn=uprn, line1=line1, town="Castlebrook", postcode=postcode,
                    latitude=52.0, longitude=-1.0, ward="Castle",
                )
            )  # fmt: skip
            home = Property(uprn=uprn)
            db.session.add(home)
            db.session.flush()
            db.session.add(
                Tenancy(
                    property_id=home.id, reference=f"RT-{uprn[-4:]}", tenant_name=user.display_name,
                    date_of_birth=date(1980, 1, 1), start_date=date(2019, 1, 1), end_date=end,
                    user_id=user.id,
                )
            )  # fmt: skip
        db.session.commit()
    client = client_for(app, officer)

    def found(q: str) -> list[str]:
        soup = check_html(client.get(ACT, query_string={"q": q}))
        return [label.get_text(strip=True) for label in soup.select("label[for^=resident]")]

    assert found("lovelace") == ["Ada Lovelace, ada@example.com"]  # staff never listed
    assert found("ADA@example") == ["Ada Lovelace, ada@example.com"]
    assert found("12 abbey road") == ["Tom Tenant, tenant@example.com"]
    assert found("ck12ab") == ["Tom Tenant, tenant@example.com"]
    assert found("CK1 2AB") == ["Tom Tenant, tenant@example.com"]
    assert found("14 Abbey Road") == []  # the tenancy has ended
    assert found("abbey road") == ["Tom Tenant, tenant@example.com"]


def test_bad_choices_get_an_error_summary(app, people):
    officer, resident = people
    staff = make_user(app, roles=("housing",), name="Harry Housing")
    disabled = make_user(app, name="Dee Disabled")
    with app.app_context():
        db.session.execute(update(User).where(User.id == disabled.id).values(disabled_at=utcnow()))
        db.session.commit()
    client = client_for(app, officer)
    token = csrf_token(client, ACT)
    cases = [
        ({}, ["Select the resident you are acting for", "Select how the resident contacted us"]),
        ({"resident": str(resident.id), "channel": "web"}, ["Select how the resident contacted us"]),
        ({"resident": "abc", "channel": "phone"}, ["Select the resident you are acting for"]),
        ({"resident": str(staff.id), "channel": "phone"}, ["Select the resident you are acting for"]),
        ({"resident": str(disabled.id), "channel": "phone"}, ["Select the resident you are acting for"]),
        ({"resident": "99999", "channel": "email"}, ["Select the resident you are acting for", "Select how the resident contacted us"]),
    ]  # fmt: skip
    for data, messages in cases:
        for url in (ACT, f"{ACT}/start"):
            response = client.post(url, data={"csrf_token": token, "q": "ada", **data})
            assert response.status_code == 400, (url, data)
            assert error_summary(check_html(response)) == messages, (url, data)
    with app.app_context():
        assert db.session.scalar(select(ActingSession.id)) is None
    assert _banner(client, ACT) is None


def test_form_submitted_while_acting_is_the_residents_on_the_phone(app, people):
    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.online_forms.demo import load_demo_forms
    from portal.online_forms.models import FormSubmission
    from tests.online_forms.conftest import Runner
    from tests.online_forms.test_runner import complete_missed_bin

    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    officer, resident = people
    client = client_for(app, officer)
    _start(client, resident, "phone", q="ada")
    assert _banner(client) == "Acting for Ada Lovelace on a phone call"
    response = complete_missed_bin(Runner(client, "report-missed-bin"), email="ada@example.com")
    assert response.status_code == 303
    with app.app_context():
        submission = db.session.scalars(select(FormSubmission)).one()
        assert submission.user_id == resident.id
        rows = db.session.scalars(select(ServiceTransaction)).all()
        assert [(r.kind, r.object_ref, r.channel, r.user_id, r.staff_id) for r in rows] == [
            ("form_submission", submission.reference, "phone", resident.id, officer.id)
        ]
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "acting.started" in actions
        started = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "acting.started"))
        assert started.actor_id == officer.id and started.object_id == str(resident.id)
    # The resident's "My council" (seen by the officer while acting) lists it.
    assert submission.reference in client.get("/my").get_data(as_text=True)


def test_repair_reported_while_acting_counts_face_to_face(app, people):
    from portal.repairs.models import Repair
    from tests.repairs.conftest import add_home, add_tenancy, leaf
    from tests.repairs.test_reporting import _details

    officer, _resident = people
    housing = make_user(app, roles=("housing",), name="Hana Housing")
    tenant = make_user(app, "tenant@example.com", name="Tom Tenant")
    with app.app_context():
        from portal.repairs.tree import seed_default_tree

        seed_default_tree()
        home = add_home("100000000001", "1 Castle Street")
        add_tenancy(home, "RT-000001", tenant.id, date(1980, 3, 27))
        db.session.commit()
        home_id, tap_id = home.id, leaf("Dripping tap").id
    client = client_for(app, housing)
    _start(client, tenant, "face_to_face", q="1 castle street")
    assert _banner(client) == "Acting for Tom Tenant face to face"
    response = _details(client, home_id, tap_id)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        repair = db.session.scalars(select(Repair)).one()
        assert (repair.user_id, repair.channel) == (tenant.id, "face_to_face")
    assert _transactions(app) == [("repair_report", "face_to_face", tenant.id, housing.id)]


def test_planning_comment_while_acting_is_on_the_phone(app, people):
    from portal.planning.models import PlanningComment
    from tests.planning.conftest import make_application

    officer, resident = people
    planner = make_user(app, roles=("planning",), name="Pat Planner")
    with app.app_context():
        slug = make_application().slug
        db.session.commit()
    client = client_for(app, planner)
    _start(client, resident, "phone")
    url = f"/planning/applications/{slug}"
    ok = client.post(
        f"{url}/comments",
        data={
            "csrf_token": csrf_token(client, url),
            "name": "Ada Lovelace",
            "address": "3 Mill Lane",
            "stance": "support",
            "text": "A good use of the site",
        },
    )
    assert ok.status_code == 302, ok.get_data(as_text=True)[:2000]
    with app.app_context():
        comment = db.session.scalars(select(PlanningComment)).one()
        assert comment.user_id == resident.id
    assert _transactions(app) == [("planning_comment", "phone", resident.id, planner.id)]


def test_payment_taken_while_acting_is_the_residents_on_the_phone(app, people):
    from portal.payments.demo import load_demo_bills
    from portal.payments.models import Payment
    from tests.payments.journey import full_sandbox_payment

    _, resident = people
    cashier = make_user(app, roles=("finance",), name="Cas Hier")
    with app.app_context():
        load_demo_bills()
        db.session.commit()
    client = client_for(app, cashier)
    _start(client, resident, "phone")
    response, *_ = full_sandbox_payment(client)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        payment = db.session.scalars(select(Payment)).one()
        assert (payment.user_id, payment.channel, payment.staff_id) == (
            resident.id,
            "phone",
            cashier.id,
        )
    assert _transactions(app) == [("payment", "phone", resident.id, cashier.id)]


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/my/change-password"),
        ("get", "/my/change-email"),
        ("get", "/my/delete"),
        ("get", "/my/data"),
        ("post", "/my/end-other-sessions"),
        ("post", "/my/delete"),
        ("get", "/sign-out"),
        ("get", "/sign-in"),
        ("get", ACT),
    ],
)
def test_account_pages_are_closed_while_acting(app, people, method, url):
    officer, resident = people
    client = client_for(app, officer)
    _start(client, resident)
    token = csrf_token(client, "/my")
    response = getattr(client, method)(
        url, data={"csrf_token": token} if method == "post" else None
    )
    assert response.status_code == 403
    soup = check_html(response)
    assert soup.h1.get_text(strip=True) == "Not available while acting for a caller"
    assert soup.select_one("#acting-banner") is not None
    # Nothing happened to the resident's account or the staff member's session.
    with app.app_context():
        person = db.session.get(User, resident.id)
        assert person.disabled_at is None and person.email == "ada@example.com"
    assert _banner(client) == "Acting for Ada Lovelace on a phone call"


def test_end_returns_the_staff_member_to_their_own_session(app, people):
    officer, resident = people
    resident_client = client_for(app, resident)
    client = client_for(app, officer)
    _start(client, resident)
    assert client.get("/staff/").status_code == 403  # the staff pages are not the resident's
    token = csrf_token(client, "/my")
    ended = client.post(f"{ACT}/end", data={"csrf_token": token})
    assert ended.status_code == 303 and ended.headers["Location"].endswith(ACT)
    page = check_html(client.get(ACT))
    assert "You have stopped acting for Ada Lovelace" in page.get_text()
    assert page.select_one("#acting-banner") is None
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        row = db.session.scalars(select(ActingSession)).one()
        assert row.end_reason == "ended" and row.ended_at is not None
        ended_event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "acting.ended")
        )
        assert ended_event.actor_id == officer.id
        # The resident's own session was never touched.
        assert db.session.scalars(
            select(UserSession.revoked_at).where(UserSession.user_id == resident.id)
        ).all() == [None]
    assert _banner(resident_client) is None
    assert "Ada Lovelace" in resident_client.get("/my").get_data(as_text=True)


def test_acting_ends_with_the_staff_session_or_role(app, people):
    officer, resident = people
    client = client_for(app, officer)
    _start(client, resident)
    with app.app_context():
        db.session.execute(
            update(UserSession).where(UserSession.user_id == officer.id).values(revoked_at=utcnow())
        )
        db.session.commit()
    response = client.get("/my")
    assert response.status_code == 302  # signed out: back to sign-in, not the resident's page
    with app.app_context():
        row = db.session.scalars(select(ActingSession)).one()
        assert row.end_reason == "staff_session"

    # A resident who becomes staff (or is disabled) mid-call can no longer be acted for.
    other = client_for(app, officer)
    _start(other, resident)
    with app.app_context():
        db.session.execute(update(User).where(User.id == resident.id).values(disabled_at=utcnow()))
        db.session.commit()
    assert _banner(other, "/") is None
    assert other.get("/staff/").status_code == 200  # back to the officer's own session
    with app.app_context():
        reasons = db.session.scalars(select(ActingSession.end_reason).order_by(ActingSession.id))
        assert reasons.all() == ["staff_session", "resident"]
