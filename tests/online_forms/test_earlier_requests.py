"""Earlier requests: what a resident did before registering is offered to the account once,
and only once, the address is confirmed."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import User
from portal.common.models import utcnow
from portal.extensions import db
from portal.online_forms.models import FormSubmission
from portal.payments.models import Payment
from portal.planning import services as planning
from portal.planning.models import PlanningAlert
from tests.accounts.helpers import (
    PASSWORD,
    emails_to,
    link_in,
    post_form,
    sign_in_with_form,
)
from tests.helpers.auth import make_user
from tests.helpers.pages import check_html, error_summary
from tests.online_forms.test_runner import complete_missed_bin

KIM = "kim@example.com"


def payment(email: str | None, user_id: int | None, reference: str) -> Payment:
    return Payment(
        reference=reference,
        purpose="council_tax",
        purpose_ref="CT1",
        description="Council tax",
        amount_pence=1000,
        lgsl=1,
        lgil=2,
        email=email,
        user_id=user_id,
        return_url="",
        created_at=utcnow(),
        updated_at=utcnow(),
    )


def earlier_things(demo, runner_for) -> int:
    """Done without an account: forms sent, a payment, a planning alert; and other people's."""
    complete_missed_bin(runner_for("report-missed-bin"), email="Kim@Example.com")
    complete_missed_bin(runner_for("report-missed-bin"), email="someone@example.com")
    owner = make_user(demo, "owner@example.com")
    with demo.app_context():
        db.session.add(payment(KIM, None, "PY-AAAA-AAAA"))
        db.session.add(payment(KIM, owner.id, "PY-BBBB-BBBB"))  # already someone's: left alone
        db.session.add(payment("someone@example.com", None, "PY-CCCC-CCCC"))
        area = planning.AlertArea(PlanningAlert.KIND_RADIUS, "Near home", 52.95, -1.55, 200)
        planning.create_alert(area, KIM, PlanningAlert.INSTANT, False, None, None)
        db.session.commit()
    return owner.id


def owners(demo) -> dict[str, object]:
    with demo.app_context():
        kim = db.session.scalar(select(User).where(User.email == KIM))
        kim_id = kim.id if kim else None
        return {
            "forms": sorted(
                (s.email.lower(), s.user_id == kim_id and kim_id is not None)
                for s in db.session.scalars(select(FormSubmission))
            ),
            "payments": {p.reference: p.user_id for p in db.session.scalars(select(Payment))},
            "alert": db.session.scalar(select(PlanningAlert.user_id)),
            "kim": kim_id,
        }


def register(client) -> str:
    response = post_form(
        client, "/register", {"display_name": "Kim", "email": KIM, "password": PASSWORD}
    )
    assert response.status_code == 302
    return link_in(emails_to(client.application, KIM)[-1])


def test_nothing_is_granted_before_the_address_is_confirmed(demo, runner_for):
    owner_id = earlier_things(demo, runner_for)
    client = demo.test_client()
    confirm_link = register(client)
    assert sign_in_with_form(client, KIM).status_code == 302
    my = check_html(client.get("/my"))
    assert "Confirm your email address first." in my.select_one("#earlier-requests").get_text()
    assert my.select_one("#earlier-requests a") is None
    offer = check_html(client.get("/my/earlier-requests"))
    assert offer.h1.get_text() == "Confirm your email address first"
    assert "Form requests" not in offer.get_text()  # not even told what exists
    adding = [f for f in offer.find_all("form") if f.get("action") == "/my/earlier-requests"]
    assert adding == []  # no form to add anything
    csrf = check_html(client.get("/my")).find("input", attrs={"name": "csrf_token"})["value"]
    client.post("/my/earlier-requests", data={"csrf_token": csrf, "add": "yes"})
    state = owners(demo)
    assert state["forms"] == [("kim@example.com", False), ("someone@example.com", False)]
    assert state["payments"]["PY-AAAA-AAAA"] is None
    assert state["payments"]["PY-BBBB-BBBB"] == owner_id
    assert state["alert"] is None

    # confirming the address, signed in, leads to the offer
    confirmed = post_form(client, confirm_link, {})
    assert confirmed.headers["Location"] == "/my/earlier-requests"
    offer = check_html(client.get("/my/earlier-requests"))
    assert offer.h1.get_text() == "Add earlier requests to your account"
    assert [li.get_text() for li in offer.select("#found li")] == [
        "Payments: 1",
        "Form requests: 1",
        "Planning alerts and tracked applications: 1",
    ]
    missing = post_form(client, "/my/earlier-requests", {})
    assert missing.status_code == 400
    assert error_summary(check_html(missing)) == [
        "Select yes if you want to add these to your account"
    ]
    no = post_form(client, "/my/earlier-requests", {"add": "no"})
    assert no.status_code == 303 and no.headers["Location"] == "/my"
    assert owners(demo)["payments"]["PY-AAAA-AAAA"] is None  # "No" adds nothing

    yes = post_form(client, "/my/earlier-requests", {"add": "yes"})
    assert yes.status_code == 303
    state = owners(demo)
    kim = state["kim"]
    assert state["forms"] == [("kim@example.com", True), ("someone@example.com", False)]
    assert state["payments"] == {
        "PY-AAAA-AAAA": kim,
        "PY-BBBB-BBBB": owner_id,
        "PY-CCCC-CCCC": None,
    }
    assert state["alert"] == kim
    my = check_html(client.get("/my"))
    text = my.get_text()
    assert "We have added 3 earlier items to your account." in text
    assert "Report a missed bin collection" in text
    assert "Planning alert: Within 200 metres of Near home" in text
    again = check_html(client.get("/my/earlier-requests"))
    assert again.h1.get_text() == "There is nothing to add"


def test_confirming_while_signed_out_offers_after_signing_in(demo, runner_for):
    earlier_things(demo, runner_for)
    client = demo.test_client()
    confirm_link = register(client)
    confirmed = post_form(client, confirm_link, {})
    assert confirmed.headers["Location"] == "/sign-in?next=/my/earlier-requests"
    signed_in = post_form(
        client, "/sign-in?next=/my/earlier-requests", {"email": KIM, "password": PASSWORD}
    )
    assert signed_in.headers["Location"] == "/my/earlier-requests"
    offer = check_html(client.get("/my/earlier-requests"))
    assert offer.h1.get_text() == "Add earlier requests to your account"


def test_my_council_explains_and_links_when_confirmed(demo):
    user = make_user(demo, "confirmed@example.com")
    from tests.helpers.auth import client_for

    client = client_for(demo, user)
    sentence = check_html(client.get("/my")).select_one("#earlier-requests")
    assert "before you signed in" in sentence.get_text()
    assert sentence.select_one("a")["href"] == "/my/earlier-requests"
    assert check_html(client.get("/my/earlier-requests")).h1.get_text() == (
        "There is nothing to add"
    )
