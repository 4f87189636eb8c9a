"""The four service KPIs: the survey after a transaction, completion per visit, cost, take-up."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.common.clock import uk_today
from portal.common.models import OutboxEmail, ServiceTransaction
from portal.extensions import db
from portal.statistics.kpi_counts import add_counts
from portal.statistics.kpi_models import (
    JourneyDaily,
    JourneyMonthly,
    SatisfactionAnswer,
    SatisfactionDaily,
    SatisfactionMonthly,
    UsedSurveyToken,
)
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary
from tests.online_forms.conftest import demo, offices, runner_for  # noqa: F401
from tests.online_forms.test_runner import complete_missed_bin
from tests.payments.conftest import bills  # noqa: F401
from tests.payments.journey import full_sandbox_payment, local


def _survey_form(soup: BeautifulSoup) -> dict[str, str]:
    section = soup.select_one("#satisfaction-survey")
    assert section is not None, "no survey on the confirmation"
    return {
        "csrf_token": section.find("input", attrs={"name": "csrf_token"})["value"],
        "token": section.find("input", attrs={"name": "token"})["value"],
    }


def _answers(app):  # noqa: ANN001, ANN202
    with app.app_context():
        return [
            (a.lgsl, a.lgil, a.channel, a.day, a.rating, a.comment)
            for a in db.session.scalars(select(SatisfactionAnswer).order_by(SatisfactionAnswer.id))
        ]


def _journeys(app):  # noqa: ANN001, ANN202
    """The daily journey counts, checked against the monthly ones."""
    with app.app_context():
        daily = [
            (r.day, r.lgsl, r.lgil, r.channel, r.started, r.completed)
            for r in db.session.scalars(select(JourneyDaily).order_by(JourneyDaily.day))
        ]
        monthly = [
            (r.month, r.lgsl, r.lgil, r.channel, r.started, r.completed)
            for r in db.session.scalars(select(JourneyMonthly))
        ]
    assert sorted(monthly) == sorted((d.replace(day=1), *rest) for d, *rest in daily)
    return daily


def _add_answer(day, rating: int) -> None:  # noqa: ANN001
    key = {"lgsl": 524, "lgil": 0, "channel": "web", "rating": rating}
    db.session.add(SatisfactionAnswer(day=day, **key))
    add_counts(SatisfactionDaily.__table__, SatisfactionMonthly.__table__, day, key, {"answers": 1})


def _submitted_form(demo, runner_for):  # noqa: ANN001, ANN202, F811
    runner = runner_for("report-missed-bin")
    response = complete_missed_bin(runner)
    url = response.headers["Location"]
    runner.client.confirmation_url = url
    return runner.client, check_html(runner.client.get(url))


def test_the_confirmation_is_complete_and_offers_the_optional_survey(demo, runner_for):  # noqa: F811
    client, soup = _submitted_form(demo, runner_for)
    assert soup.select_one("#reference").get_text().startswith("FS-")
    section = soup.select_one("#satisfaction-survey")
    text = section.get_text(" ", strip=True)
    assert "This is optional: you have finished" in text
    for label in (
        "Very satisfied",
        "Satisfied",
        "Neither satisfied nor dissatisfied",
        "Dissatisfied",
        "Very dissatisfied",
    ):
        assert section.find("label", string=label) is not None
    assert section.find("textarea", attrs={"name": "comment"}) is not None
    # Not answering changes nothing: the transaction is recorded already.
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServiceTransaction)) == 1


def test_an_answer_is_recorded_without_identifying_the_resident_and_only_once(demo, runner_for):  # noqa: F811
    client, soup = _submitted_form(demo, runner_for)
    data = _survey_form(soup)
    response = client.post(
        "/feedback/satisfaction",
        data={**data, "rating": "2", "comment": "The address search was slow"},
    )
    page = check_html(response)
    assert page.h1.get_text(strip=True) == "Thank you for your feedback"
    assert _answers(demo) == [(524, 0, "web", uk_today(), 2, "The address search was slow")]
    with demo.app_context():
        daily = db.session.execute(select(SatisfactionDaily.__table__)).all()
        monthly = db.session.execute(select(SatisfactionMonthly.__table__)).all()
        assert [tuple(r) for r in daily] == [(uk_today(), 524, 0, "web", 2, 1)]
        assert [tuple(r) for r in monthly] == [(uk_today().replace(day=1), 524, 0, "web", 2, 1)]
    with demo.app_context():
        columns = set(SatisfactionAnswer.__table__.columns.keys())
        assert columns == {"id", "day", "lgsl", "lgil", "channel", "rating", "comment"}
        reference = db.session.scalar(select(ServiceTransaction.object_ref))
        used = db.session.scalars(select(UsedSurveyToken.token_hash)).all()
        assert len(used) == 1 and reference not in used[0]
    # The same token again (a second tab, the back button): nothing more is stored.
    again = client.post("/feedback/satisfaction", data={**data, "rating": "5"})
    assert check_html(again).h1.get_text(strip=True) == "You have already sent feedback"
    assert len(_answers(demo)) == 1
    # The confirmation seen again no longer offers the survey for this transaction.
    confirmation = check_html(client.get(client.confirmation_url))
    assert confirmation.select_one("#reference") is not None
    assert confirmation.select_one("#satisfaction-survey") is None


def test_a_missing_rating_is_an_error_at_the_radios_and_an_htmx_answer_swaps_in_place(
    demo,  # noqa: F811
    runner_for,  # noqa: F811
):
    client, soup = _submitted_form(demo, runner_for)
    data = _survey_form(soup)
    response = client.post("/feedback/satisfaction", data={**data, "comment": "x" * 1201})
    assert response.status_code == 400
    page = check_html(response)
    assert error_summary(page) == [
        "Select how you feel about the service you received today",
        "Your comment must be 1200 characters or fewer",
    ]
    assert page.select_one("#rating-error") is not None
    assert page.find("textarea", attrs={"name": "comment"}).get_text() == "x" * 1201
    assert _answers(demo) == []
    fragment = client.post(
        "/feedback/satisfaction", data={**data, "rating": "5"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert "<html" not in body
    piece = BeautifulSoup(body, "html.parser")
    section = piece.select_one("#satisfaction-survey")
    assert section.h2.get_text(strip=True) == "Thank you for your feedback"
    assert _answers(demo) == [(524, 0, "web", uk_today(), 5, None)]


def test_a_forged_token_is_refused_and_nothing_is_stored(app, client):
    token = csrf_token(client, "/pay")
    response = client.post(
        "/feedback/satisfaction", data={"csrf_token": token, "token": "abc.def", "rating": "5"}
    )
    assert check_html(response).h1.get_text(strip=True) == "We could not read this survey"
    assert _answers(app) == []


def test_a_comment_is_emailed_to_the_service_owner_and_listed_for_staff(demo, runner_for):  # noqa: F811
    from portal.council_services.models import Service

    with demo.app_context():
        owner = make_user(demo, email="waste.owner@example.gov.uk", roles=("editor",))
        db.session.add(
            Service(
                slug="bins",
                name="Bin collections",
                lgsl=524,
                department="Environment",
                email="waste@example.gov.uk",
                owner_id=owner.id,
                published=True,
            )
        )
        db.session.commit()
    client, soup = _submitted_form(demo, runner_for)
    client.post(
        "/feedback/satisfaction",
        data={**_survey_form(soup), "rating": "1", "comment": "Nobody came back to me"},
    )
    with demo.app_context():
        emails = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == "waste.owner@example.gov.uk")
        ).all()
        assert len(emails) == 1
        assert emails[0].subject == "Feedback on Bin collections"
        assert "How they felt: Very dissatisfied" in emails[0].body_text
        assert "Nobody came back to me" in emails[0].body_text
        assert "res@example.com" not in emails[0].body_text
    manager = client_for(demo, make_user(demo, roles=("manager",)))
    page = check_html(manager.get("/staff/statistics/kpis/comments?service=524"))
    listed = page.select_one("#survey-comments").get_text(" ", strip=True)
    assert "Bin collections" in listed and "Nobody came back to me" in listed
    assert "Very dissatisfied" in listed


def test_a_form_start_counts_once_per_visit_and_completes_on_submission(demo, runner_for):  # noqa: F811
    runner = runner_for("report-missed-bin")
    runner.start()
    runner.start()  # started again in the same visit: still one start
    assert _journeys(demo) == [(uk_today(), 524, 0, "web", 1, 0)]
    other = runner_for("report-missed-bin")  # another visit that never finishes
    other.start()
    complete_missed_bin(runner)
    assert _journeys(demo) == [(uk_today(), 524, 0, "web", 2, 1)]
    manager = client_for(demo, make_user(demo, roles=("manager",)))
    page = check_html(manager.get("/staff/statistics/kpis"))
    assert page.select_one("#kpi-completion").get_text(strip=True) == "50.0%"


def test_a_bill_payment_starts_once_per_visit_and_completes_when_paid(bills):  # noqa: F811
    client = bills.test_client()
    client.get("/pay/council_tax")
    client.get("/pay/council_tax")
    final, *_ = full_sandbox_payment(client)
    confirmation = client.get(local(final.headers["Location"]))
    soup = check_html(confirmation)
    with bills.app_context():
        payment_lgsl, payment_lgil = db.session.execute(
            select(ServiceTransaction.lgsl, ServiceTransaction.lgil)
        ).one()
    assert _journeys(bills) == [(uk_today(), payment_lgsl, payment_lgil, "web", 1, 1)]
    data = _survey_form(soup)
    client.post("/feedback/satisfaction", data={**data, "rating": "4"})
    answers = _answers(bills)
    assert [(a[0], a[2], a[4]) for a in answers] == [(payment_lgsl, "web", 4)]


def _seed(app):  # noqa: ANN001, ANN202
    """Known inputs for one service on one day: 6 web, 2 kiosk, 1 kiosk_assisted, 1 phone."""
    today = uk_today()
    with app.app_context():
        for channel, n in (("web", 6), ("kiosk", 2), ("kiosk_assisted", 1), ("phone", 1)):
            for _ in range(n):
                db.session.add(
                    ServiceTransaction(lgsl=524, lgil=0, channel=channel, kind="form_submission")
                )
        key = {"lgsl": 524, "lgil": 0, "channel": "web"}
        add_counts(
            JourneyDaily.__table__, JourneyMonthly.__table__, today, key,
            {"started": 4, "completed": 3},
        )  # fmt: skip
        for rating in (5, 4, 3, 1):
            _add_answer(today, rating)
        db.session.commit()


def test_the_four_figures_follow_their_definitions(app):
    _seed(app)
    with app.app_context():
        from portal.statistics import kpis
        from portal.statistics import services as stats

        period = stats.period_for("month", uk_today())
        result = kpis.report(period, stats.Filters(), "service")
        total = result.total
        assert total.transactions == 10
        assert total.digital_take_up == 80.0  # web and kiosk only: not assisted, not phone
        assert total.completion_rate == 75.0
        assert total.satisfaction == 50.0
        costs = stats.unit_costs()
        expected = (
            6 * costs["web"] + 2 * costs["kiosk"] + costs["kiosk_assisted"] + costs["phone"]
        ) / 10
        assert total.cost_per_transaction == expected.quantize(Decimal("0.01"))
        by_channel = {r.key: r for r in kpis.report(period, stats.Filters(), "channel").rows}
        assert by_channel["kiosk_assisted"].digital_take_up == 0.0
        assert by_channel["web"].digital_take_up == 100.0
        assert by_channel["phone"].satisfaction is None


def test_staff_page_chart_table_and_csv_agree(app):
    _seed(app)
    manager = client_for(app, make_user(app, roles=("manager",)))
    page = check_html(manager.get("/staff/statistics/kpis?by=department"))
    assert page.select_one("#kpi-take-up").get_text(strip=True) == "80.0%"
    assert page.select_one("#kpi-satisfaction").get_text(strip=True) == "50.0%"
    chart = page.select_one("#chart-kpi-percent")
    legend = chart.select_one("figcaption").get_text(" ", strip=True)
    assert "Digital take-up" in legend and "Completion rate" in legend
    assert "User satisfaction" in legend
    assert [t.get_text() for t in chart.select("svg text.portal-chart__tick")][-6:] == [
        "0%",
        "25%",
        "50%",
        "75%",
        "100%",
        "Percentage",
    ]
    rows = page.select("#table-kpis tbody tr")
    assert [c.get_text(strip=True) for c in rows[0].select("th, td")] == [
        "Environment",
        "10",
        "80.0%",
        "4",
        "75.0%",
        page.select_one("#kpi-cost").get_text(strip=True),
        "4",
        "50.0%",
    ]
    csv_link = page.find("a", string="Download these figures (CSV)")["href"]
    response = manager.get(csv_link)
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert table[0]["Department"] == "Environment"
    assert table[0]["DigitalTakeUpPercent"] == "80.0"
    assert table[0]["CompletionRatePercent"] == "75.0"
    assert table[0]["UserSatisfactionPercent"] == "50.0"
    assert table[-1]["Department"] == "Total"
    filtered = check_html(manager.get("/staff/statistics/kpis?channel=phone"))
    assert filtered.select_one("#kpi-take-up").get_text(strip=True) == "0.0%"


def test_a_bad_custom_period_is_an_error_not_a_crash(app):
    manager = client_for(app, make_user(app, roles=("manager",)))
    page = check_html(manager.get("/staff/statistics/kpis?period=custom&from-day=40"))
    assert "The start date must include a day, month and year" in error_summary(page)


def test_the_public_page_says_each_figure_in_plain_english(app):
    today = uk_today()
    last_month = today.replace(day=1) - timedelta(days=1)
    with app.app_context():
        from portal.common.clock import uk_day_start

        for channel in ("web", "web", "web", "phone"):
            db.session.add(
                ServiceTransaction(
                    occurred_at=uk_day_start(last_month) + timedelta(hours=12),
                    lgsl=524,
                    lgil=0,
                    channel=channel,
                    kind="form_submission",
                )
            )
        _add_answer(last_month, 5)
        db.session.commit()
    client = app.test_client()
    performance = check_html(client.get("/performance"))
    link = performance.find(
        "a",
        string="Digital take-up, completion rate, cost per transaction and user "
        "satisfaction for each service",
    )
    page = check_html(client.get(link["href"]))
    summary = page.select_one("#kpi-summary").get_text(" ", strip=True)
    assert "75.0% of transactions were done by residents themselves online" in summary
    assert "no online forms or payments were started" in summary
    assert "100.0% of the 1 person who answered our survey was satisfied" in summary
    services = page.select_one("#kpi-services").get_text(" ", strip=True)
    assert "4 transactions, 75.0% done by residents themselves online." in services
    assert "1 person who answered our survey was satisfied" in services
    assert page.select_one("#table-public-kpis") is not None


def test_every_kpi_and_survey_page_passes_the_html_checker(demo, runner_for):  # noqa: F811
    import pytest

    from tests.helpers.walk import vnu_available, vnu_errors

    if (reason := vnu_available()) is not None:
        pytest.skip(reason)
    _seed(demo)
    client, soup = _submitted_form(demo, runner_for)
    data = _survey_form(soup)
    pages = {"confirmation with the survey": str(soup)}
    pages["survey, error"] = client.post("/feedback/satisfaction", data=data).get_data(True)
    pages["survey, error (htmx fragment)"] = (
        "<!DOCTYPE html><html lang='en'><head><title>x</title></head><body><main>"
        + client.post("/feedback/satisfaction", data=data, headers={"HX-Request": "true"}).get_data(
            True
        )
        + "</main></body></html>"
    )
    pages["survey, thank you"] = client.post(
        "/feedback/satisfaction", data={**data, "rating": "5", "comment": "Fine"}
    ).get_data(True)
    manager = client_for(demo, make_user(demo, roles=("manager",)))
    for url in (
        "/staff/statistics/kpis",
        "/staff/statistics/kpis?by=channel&period=quarter",
        "/staff/statistics/kpis?period=custom&from-day=1",
        "/staff/statistics/kpis/comments",
        "/staff/statistics/kpis/comments?service=524",
    ):
        pages[url] = manager.get(url).get_data(True)
    pages["/performance/services"] = demo.test_client().get("/performance/services").get_data(True)
    assert vnu_errors(pages) == []
