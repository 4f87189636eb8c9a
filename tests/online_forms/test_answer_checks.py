"""Answer checks another slice registers for an interaction: a page shows the problems with its own
questions at the fields, the submit re-checks the whole draft and keeps it; and a form can start at
a gazetteer address handed to its start page."""

from __future__ import annotations

from portal.online_forms.answer_checks import checks_for, register_answer_check
from tests.helpers.pages import check_html, error_summary
from tests.online_forms.conftest import ADDRESS, Runner

SLUG = "new-or-replacement-bin"  # LGSL 533, LGIL 0: which bin, why, where, contact
GARDEN = "Garden waste bins come with a garden waste subscription"
BROKEN = "A broken bin is replaced by the crew on collection day: leave it out"


def _register(app) -> dict:  # noqa: ANN001
    state = {"broken_refused": False, "calls": 0}

    def check(definition: dict, answers: dict) -> list[tuple[str, str]]:
        state["calls"] += 1
        problems = []
        if answers.get("bin") == "garden-waste":
            problems.append(("bin", GARDEN))
        if answers.get("reason") == "broken" and state["broken_refused"]:
            problems.append(("reason", BROKEN))
        return problems

    register_answer_check(app, 533, 0, check)
    state["check"] = check
    return state


def test_a_page_shows_its_own_problems_at_the_field(demo):
    state = _register(demo)
    runner = Runner(demo.test_client(), SLUG)
    url = runner.start()
    refused = check_html(runner.post(url, {"bin": "garden-waste"}, expect=400))
    assert error_summary(refused) == [GARDEN]
    assert refused.select_one(".govuk-error-summary a")["href"] == "#bin"
    assert GARDEN in refused.select_one(".govuk-error-message").get_text()
    url = runner.answer(url, {"bin": "recycling"})
    state["broken_refused"] = True
    # The bin page's problem is not the reason page's: each page shows only its own.
    url = runner.answer(url, {"reason": "lost-or-stolen"})
    assert state["calls"] == 3
    with demo.app_context():
        others = [f.slug for f in _forms(demo) if state["check"] in checks_for(f)]
    assert others == [SLUG]  # only the forms on the interaction it was registered for


def _forms(app):  # noqa: ANN001, ANN202
    from sqlalchemy import select

    from portal.extensions import db
    from portal.online_forms.models import OnlineForm

    return list(db.session.scalars(select(OnlineForm)))


def test_submit_checks_the_whole_draft_again_and_keeps_it(demo):
    state = _register(demo)
    runner = Runner(demo.test_client(), SLUG)
    url = runner.start()
    url = runner.answer(url, {"bin": "recycling"})
    url = runner.answer(url, {"reason": "broken"})
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"name": "Ada Resident"})
    assert url.endswith("/check")
    state["broken_refused"] = True  # the rule changed after the page was answered
    page = check_html(runner.submit(expect=400))
    assert error_summary(page) == [BROKEN]
    assert page.select_one(".govuk-error-summary a")["href"] == (
        f"/forms/{SLUG}/page/why?change=1#reason"
    )
    again = check_html(runner.client.get(f"/forms/{SLUG}/check"))
    answers = [dd.get_text(" ", strip=True) for dd in again.select(".govuk-summary-list__value")]
    assert "Broken" in answers and "Ada Resident" in answers


def test_a_form_can_start_at_an_address_from_the_gazetteer(demo):
    client = demo.test_client()
    unknown = check_html(client.get("/forms/report-missed-bin?uprn=999999999999"))
    assert unknown.find("input", attrs={"name": "uprn"}) is None
    start = check_html(client.get(f"/forms/report-missed-bin?uprn={ADDRESS['address']}"))
    form = start.find("form", action="/forms/report-missed-bin/start")
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    assert fields["uprn"] == ADDRESS["address"]
    response = client.post(form["action"], data=fields)
    assert response.headers["Location"].endswith("/page/where")  # the page still asks
    page = check_html(client.get(response.headers["Location"]))
    assert page.select_one("input#address-postcode")["value"] == "CK1 1AB"
    chosen = page.select_one("select#address option[selected]")
    assert chosen is not None and chosen["value"] == ADDRESS["address"]
