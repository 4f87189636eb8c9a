"""One rulebook, every place agrees (docs/bvpi157.md): the register and the transactions are
changed in several ways, and after each change the public APIs, the public /performance page,
the public take-up page, the staff statistics page, its CSV, the return CSV and a snapshot all
give the same BVPI 157 figure and the same take-up, equal to counts worked out from the records
by the rules themselves."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from portal.common.clock import uk_date, uk_today
from portal.common.delivery import set_portal_delivery, withdraw_portal_deliveries
from portal.common.models import ServiceTransaction
from portal.common.transactions import ASSISTED_DIGITAL, OFFLINE, SELF_SERVICE_DIGITAL
from portal.council_services.models import Service
from portal.extensions import db
from portal.statistics.services import percent
from tests.council_services.factories import make_service
from tests.council_services.test_rulebook import agree
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token
from tests.statistics.test_statistics import _insert


def _public_period():  # noqa: ANN202
    """The public summary's twelve whole months (see statistics.services.public_summary)."""
    end = uk_today().replace(day=1) - timedelta(days=1)
    start = (end.replace(day=1) - timedelta(days=330)).replace(day=1)
    return start, end


def _expected_take_up(app) -> tuple[int, float, float, float]:  # noqa: ANN001
    """Total and the three channel-group shares, from the records by their UK day."""
    start, end = _public_period()
    with app.app_context():
        channels = [
            r.channel
            for r in db.session.scalars(select(ServiceTransaction))
            if start <= uk_date(r.occurred_at) <= end
        ]
    total = len(channels)

    def share(group: tuple[str, ...]) -> float:
        return percent(sum(1 for c in channels if c in group), total)

    return total, share(SELF_SERVICE_DIGITAL), share(ASSISTED_DIGITAL), share(OFFLINE)


def _take_up_everywhere(app, client) -> tuple[int, float, float, float]:  # noqa: ANN001
    total, digital, assisted, offline = _expected_take_up(app)
    for path in ("/performance", "/performance/take-up"):
        soup = check_html(client.get(path))
        assert soup.select_one("#take-up-digital").get_text(strip=True) == f"{digital}%"
        assert soup.select_one("#take-up-assisted").get_text(strip=True) == f"{assisted}%"
        assert soup.select_one("#take-up-offline").get_text(strip=True) == f"{offline}%"
        assert f"residents completed {total:,} transactions" in soup.get_text(" ", strip=True)
    start, end = _public_period()
    query = (
        f"period=custom&from-day={start.day}&from-month={start.month}&from-year={start.year}"
        f"&to-day={end.day}&to-month={end.month}&to-year={end.year}"
    )
    staff = check_html(client.get(f"/staff/statistics?{query}"))
    assert staff.select_one("#stat-total").get_text(strip=True) == f"{total:,}"
    assert staff.select_one("#stat-digital").get_text(strip=True) == f"{digital}%"
    assert staff.select_one("#stat-assisted").get_text(strip=True) == f"{assisted}%"
    assert staff.select_one("#stat-offline").get_text(strip=True) == f"{offline}%"
    # A channel filter keeps the shares of all channels: never "100 % digital".
    web_only = check_html(client.get(f"/staff/statistics?{query}&channel=web"))
    assert web_only.select_one("#stat-digital").get_text(strip=True) == f"{digital}%"
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/staff/statistics/export.csv?{query}").text))
    )
    assert sum(int(r["Transactions"]) for r in rows) == total
    self_service = sum(
        int(r["Transactions"]) for r in rows if r["ChannelGroup"] == "Self-service digital"
    )
    assert percent(self_service, total) == digital
    return total, digital, assisted, offline


def _at(days_ago: int, hour: int = 12) -> datetime:
    day = uk_today().replace(day=1) - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def test_every_page_api_csv_and_snapshot_agree_through_many_changes(app):
    staff = make_user(app, roles=("editor", "manager"))
    client = client_for(app, staff)
    with app.app_context():
        make_service(
            "Household waste collection", 524, [{"lgil": 0}, {"lgil": 8, "e_enabled": True}]
        )
        make_service("Council tax", 57, [{"lgil": 2}, {"lgil": 0, "permissible": False}])
        draft_id = make_service(
            "Allotments", 510, [{"lgil": 0}, {"lgil": 8, "e_enabled": True}], published=False
        ).id
        set_portal_delivery("form", "missed-bin", 524, 0, "Missed bin", "/forms/missed-bin")
        set_portal_delivery("payments", "ctax", 57, 2, "Pay council tax", "/pay/ctax")
        set_portal_delivery("form", "allot", 510, 0, "Apply for an allotment", "/forms/a")
        db.session.commit()
    _insert(
        app,
        [(_at(10), 524, 0, "web")] * 6
        + [(_at(40), 524, 0, "phone")] * 3
        + [(_at(70), 57, 2, "kiosk")] * 2
        + [(_at(100), 57, 2, "kiosk_assisted")] * 2
        + [(_at(130), 57, 2, "email")]
        + [(_at(20), 510, 0, "face_to_face")] * 2,
    )
    seen = [(agree(client, app), _take_up_everywhere(app, client))]

    # 1. A draft service is published, then (through the staff screen) unpublished.
    token = csrf_token(client, "/staff/services")
    client.post(
        f"/staff/services/{draft_id}/publish", data={"action": "publish", "csrf_token": token}
    )
    seen.append((agree(client, app), _take_up_everywhere(app, client)))
    client.post(
        f"/staff/services/{draft_id}/publish", data={"action": "unpublish", "csrf_token": token}
    )
    seen.append((agree(client, app), _take_up_everywhere(app, client)))

    # 2. A delivery is withdrawn; another, matching nothing, is added then given its interaction.
    with app.app_context():
        withdraw_portal_deliveries("payments", "ctax")
        set_portal_delivery("form", "bulky", 524, 1, "Book a bulky collection", "/forms/bulky")
        db.session.commit()
    seen.append((agree(client, app), _take_up_everywhere(app, client)))
    page = check_html(client.get("/staff/services/mismatches"))
    form = page.select_one("#table-mismatches button").find_parent("form")
    client.post(form["action"], data={i["name"]: i["value"] for i in form.find_all("input")})
    seen.append((agree(client, app), _take_up_everywhere(app, client)))

    # 3. Transactions: a summer evening near midnight UK time, assisted and offline ones, and
    #    some deleted.
    today = uk_today()
    year = today.year if today.month > 7 else today.year - 1  # the last whole July
    late = datetime(year, 7, 31, 22, 45, tzinfo=UTC)  # 23:45 BST on 31 July
    _insert(
        app,
        [(late, 524, 0, "web")] * 3
        + [(_at(5), 524, 8, "kiosk_assisted")] * 4
        + [(_at(6), 57, 2, "post")],
    )
    seen.append((agree(client, app), _take_up_everywhere(app, client)))
    with app.app_context():
        db.session.execute(delete(ServiceTransaction).where(ServiceTransaction.channel == "phone"))
        db.session.commit()
    seen.append((agree(client, app), _take_up_everywhere(app, client)))

    # 4. A service is deleted after being unpublished.
    with app.app_context():
        assert not db.session.get(Service, draft_id).published
    client.post(f"/staff/services/{draft_id}/delete", data={"csrf_token": token})
    seen.append((agree(client, app), _take_up_everywhere(app, client)))

    figures = [f for f, _ in seen]
    assert figures == [(3, 3), (5, 5), (3, 3), (2, 3), (3, 4), (3, 4), (3, 4), (3, 4)]
    totals = [t[0] for _, t in seen]
    assert totals == [16, 16, 16, 16, 16, 24, 21, 21]
