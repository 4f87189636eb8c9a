"""BVPI 157 = 100 × (applicable ∧ permissible ∧ e-enabled) / (applicable ∧ permissible), live."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event

from portal.common.delivery import set_portal_delivery, withdraw_portal_deliveries
from portal.council_services.services import bvpi157, bvpi157_breakdown, not_yet_enabled
from portal.extensions import db
from tests.council_services.factories import make_service


def enabled(lgil: int, channels: tuple[str, ...] = ("web",)) -> dict:
    return {"lgil": lgil, "e_enabled": True, "channels": list(channels)}


def not_enabled(lgil: int) -> dict:
    return {"lgil": lgil, "e_enabled": False}


def test_empty_register_is_zero_not_an_error(app_ctx) -> None:
    figure = bvpi157()
    assert (figure.numerator, figure.denominator, figure.percent) == (0, 0, 0.0)


def test_formula_on_hand_built_cases(app_ctx) -> None:
    make_service(
        "Bins",
        524,
        [
            enabled(8),
            enabled(9),
            not_enabled(0),
            # not applicable: left out of both counts even though e-enabled
            {"lgil": 3, "applicable": False, "e_enabled": True, "channels": ["web"]},
        ],
    )
    make_service(
        "Register a death",
        321,
        [
            enabled(1),
            # not legally permissible: leaves the denominator, with its reason
            {"lgil": 0, "permissible": False, "exclusion_reason": "Must attend in person"},
        ],
    )
    figure = bvpi157()
    assert (figure.numerator, figure.denominator) == (3, 4)
    assert figure.percent == 75.0
    by_type = {label.split()[0]: (num, den) for label, num, den, _ in bvpi157_breakdown("type")}
    assert by_type["0"] == (0, 1)  # the excluded row is not in the denominator
    assert by_type["3"] == (0, 0)
    assert [(s.name, i.lgil) for s, i in not_yet_enabled()] == [("Bins", 0)]


def test_live_portal_delivery_counts_and_stops_when_withdrawn(app_ctx) -> None:
    make_service("Housing repairs", 141, [not_enabled(0), enabled(8)])
    assert (bvpi157().numerator, bvpi157().denominator) == (1, 2)

    set_portal_delivery("repairs", "installed", 141, 0, "Report a repair", "/repairs")
    db.session.commit()
    assert (bvpi157().numerator, bvpi157().denominator) == (2, 2)
    assert not_yet_enabled() == []

    # a delivery for another interaction type or another service does not count here
    set_portal_delivery("form", "other", 141, 5, "Tender", "/x")
    set_portal_delivery("form", "other", 999, 0, "Other", "/y")
    db.session.commit()
    assert (bvpi157().numerator, bvpi157().denominator) == (2, 2)

    assert withdraw_portal_deliveries("repairs", "installed") == 1
    db.session.commit()
    assert (bvpi157().numerator, bvpi157().denominator) == (1, 2)


def test_delivery_does_not_count_for_excluded_or_not_applicable(app_ctx) -> None:
    make_service(
        "Marriage",
        1716,
        [
            {"lgil": 0, "permissible": False, "exclusion_reason": "In person by law"},
            {"lgil": 1, "applicable": False},
            not_enabled(8),
        ],
    )
    set_portal_delivery("form", "f1", 1716, 0, "Apply", "/a")
    set_portal_delivery("form", "f2", 1716, 1, "Book", "/b")
    db.session.commit()
    assert (bvpi157().numerator, bvpi157().denominator) == (0, 1)


def test_figure_is_one_aggregate_query(app_ctx) -> None:
    make_service("A service", 1, [enabled(0), not_enabled(1)])
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001, ANN202
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        bvpi157()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    assert "EXISTS" in selects[0].upper() and "portal_deliveries" in selects[0]


def test_api_and_cli(app) -> None:
    with app.app_context():
        make_service("Pay council tax", 57, [enabled(2), not_enabled(3)])
    body = app.test_client().get("/api/v1/bvpi157").get_json()
    assert body["numerator"] == 1 and body["denominator"] == 2 and body["percent"] == 50.0
    assert set(body) == {"numerator", "denominator", "percent", "as_of"}
    result = app.test_cli_runner().invoke(args=["bvpi157"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["percent"] == 50.0


def test_services_api_reports_e_enablement_with_deliveries(app) -> None:
    with app.app_context():
        make_service("Housing repairs", 141, [not_enabled(0)])
        make_service("Draft", 999, [enabled(0)], published=False)
        set_portal_delivery("repairs", "installed", 141, 0, "Report a repair", "/repairs")
        db.session.commit()
    body = app.test_client().get("/api/v1/services").get_json()
    assert body["count"] == 1
    (service,) = body["services"]
    assert service["lgsl"] == 141 and service["url"].endswith("/services/housing-repairs")
    (interaction,) = service["interactions"]
    assert interaction["e_enabled"] is True and interaction["delivered_by_portal"] is True
    assert set(interaction["channels"]) >= {"web", "kiosk"}
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and {"/api/v1/services", "/api/v1/bvpi157"} <= set(
        spec["paths"]
    )


@pytest.mark.parametrize("code", ["x", "n"])
def test_demo_catalogue_lands_between_70_and_90(app, code: str) -> None:
    from portal.council_services.demo import demo_services, load_demo_catalogue

    with app.app_context():
        load_demo_catalogue()
        again = load_demo_catalogue()
        assert again[0].startswith("0 services added")
        figure = bvpi157()
        assert 70 <= figure.percent <= 90
        items = demo_services()
        assert len(items) >= 150
        assert {lgil for i in items for lgil, _ in i.interactions} == set(range(10))
        assert sum(1 for i in items for _, c in i.interactions if c == code) >= 5
        for lgsl in (57, 58, 59, 140, 141, 474, 485, 487, 510, 524, 528, 533, 587, 438):
            assert lgsl in {i.lgsl for i in items}
