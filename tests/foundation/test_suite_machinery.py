"""The suite's shared machinery still fails when it should: isolation, the HTML checker, reflow.

These pin what was made cheaper (see "The suite's own cost" in docs/performance.md): emptying
PostgreSQL after a test, the long-lived Nu HTML Checker and the 320 px check of walked pages.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from portal.accounts.models import User
from portal.extensions import db
from tests.conftest import PG_URL, _empty_all_tables
from tests.helpers.auth import make_user
from tests.helpers.browser import serve
from tests.helpers.reflow import NARROW, sideways_scroll
from tests.helpers.walk import _vnu_errors_in_one_batch, vnu_available, vnu_errors

BROKEN = (
    "<!DOCTYPE html><html lang=en><head><title>Broken</title></head>"
    "<body><p><div>block in a paragraph</p><span id=x></span><span id=x></span></body></html>"
)
VALID = (
    "<!DOCTYPE html><html lang=en><head><title>Fine</title></head><body><p>Fine</p></body></html>"
)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only (SQLite copies a new file per test)")
def test_emptying_after_a_test_leaves_no_row_and_restarts_ids(app):
    first = make_user(app)
    make_user(app)
    with app.app_context():
        _empty_all_tables()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    again = make_user(app)
    assert again.id == first.id, "ids start again as in a new schema"


def test_the_checker_service_reports_what_a_batch_run_reports():
    reason = vnu_available()
    if reason:
        pytest.skip(reason)
    pages = {"/broken": BROKEN, "/valid": VALID}
    found = vnu_errors(pages)
    assert found == _vnu_errors_in_one_batch(pages)
    assert found and all(line.startswith("/broken line ") for line in found), found
    assert any("Duplicate ID" in line for line in found), found


@pytest.mark.browser
def test_the_reflow_check_names_a_page_that_scrolls_sideways(browser):
    app = Flask(__name__)

    @app.get("/narrow")
    def narrow() -> str:
        return "<!DOCTYPE html><html lang=en><title>Narrow</title><p>Short words only</p></html>"

    @app.get("/wide")
    def wide() -> str:
        return (
            "<!DOCTYPE html><html lang=en><title>Wide</title>"
            "<table><tr><td><img alt='' width=600 height=10></td></tr></table></html>"
        )

    app.config["PORTAL"] = type("Settings", (), {"base_url": ""})()
    context = browser.new_context(viewport=NARROW)
    try:
        with serve(app) as server:
            result = sideways_scroll(context.new_page(), server.url, ["/narrow", "/wide"])
    finally:
        context.close()
    assert result.measured == ["/narrow", "/wide"]
    assert len(result.offenders) == 1 and result.offenders[0].startswith("/wide: 6"), result
    assert "(widest: table to 6" in result.offenders[0], "it names what sticks out"


def test_a_test_app_is_a_new_database(app: Flask):
    """Each test starts from the migrated schema with no users, whatever ran before it."""
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    make_user(app)
