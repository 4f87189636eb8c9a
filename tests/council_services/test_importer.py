"""The LGSL importer: esd CSV format, drafts by LGSL number, malformed rows reported by line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.council_services.models import Service
from portal.extensions import db
from tests.council_services.factories import make_service

REAL_FILE = Path("/work/shared/reference/lgsl_englishAndWelshServices.csv")
FIXTURE = Path(__file__).parent / "fixtures" / "lgsl_small.csv"


def run(app, path: Path):  # noqa: ANN201
    return app.test_cli_runner().invoke(args=["services", "import-lgsl", str(path)])


def test_fixture_reports_bad_rows_by_line_and_imports_the_rest(app) -> None:
    with app.app_context():
        make_service("Bins (our own words)", 524, published=True)
    result = run(app, FIXTURE)
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 1 unchanged, 1 discontinued skipped, 3 rejected" in result.stdout
    assert "line 5: identifier 'abc' is not a positive number" in result.stderr
    assert "line 6: the label is empty" in result.stderr
    assert "line 7: expected 8 columns, found 2" in result.stderr
    with app.app_context():
        pest = db.session.scalar(select(Service).where(Service.lgsl == 9004))
        assert pest.name == "Pest control extra" and not pest.published
        assert pest.body == "Rats, mice\nand wasps"
        assert db.session.scalar(select(Service).where(Service.lgsl == 9001)) is None
        # a published page keeps the council's own words
        assert db.session.scalar(select(Service.name).where(Service.lgsl == 524)) == (
            "Bins (our own words)"
        )
    again = run(app, FIXTURE)
    assert "0 created, 0 updated, 2 unchanged" in again.stdout


@pytest.mark.skipif(not REAL_FILE.exists(), reason="the esd LGSL export is not on this machine")
def test_real_lgsl_file(app) -> None:
    with REAL_FILE.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    live = {int(r["Identifier"]) for r in rows if r["Status"] == "Live"}
    result = run(app, REAL_FILE)
    assert result.exit_code == 0, result.output
    assert f"{len(live)} created" in result.stdout
    assert "0 rejected" in result.stdout
    with app.app_context():
        assert db.session.scalar(select(func.count(Service.id))) == len(live)
        assert db.session.scalar(select(func.count(Service.id)).where(Service.published)) == 0
        assert db.session.scalar(select(Service.name).where(Service.lgsl == 524)) == (
            "Household waste collection"
        )
        assert set(db.session.scalars(select(Service.lgsl))) == live
