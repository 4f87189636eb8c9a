"""Submission tokens: issued with a form, kept when it is shown again, used once, then purged.

The journeys that rely on them (a repair report, a planning comment sent twice) are tested in
tests/statistics/test_one_record_per_transaction.py.
"""

from __future__ import annotations

from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.common import submissions
from portal.common.models import SubmissionToken, utcnow
from portal.extensions import db


def _field(markup: str) -> str:
    field = BeautifulSoup(markup, "html.parser").find("input")
    assert field["type"] == "hidden" and field["name"] == submissions.FIELD
    return str(field["value"])


def test_a_form_gets_a_new_token_and_keeps_a_posted_one(app):
    with app.test_request_context("/"):
        token = _field(submissions.submission_token_field())
        assert _field(submissions.submission_token_field()) == token  # one per page
    with app.test_request_context("/"):
        assert _field(submissions.submission_token_field()) != token
    with app.test_request_context("/", method="POST", data={submissions.FIELD: token}):
        assert submissions.posted_token() == token
        assert _field(submissions.submission_token_field()) == token
    for bad in ("", "short", "x" * 65, 'a"><script>alert(1)</script>' + "a" * 20):
        with app.test_request_context("/", method="POST", data={submissions.FIELD: bad}):
            assert submissions.posted_token() is None
            assert _field(submissions.submission_token_field()) != bad


def test_a_token_is_used_once_per_purpose(app):
    token = submissions.new_token()
    with app.test_request_context("/", method="POST"):
        assert submissions.first_result("test", token) is None
        assert submissions.commit_once("test", token, "first") == "first"
        assert submissions.first_result("test", token) == "first"
        assert submissions.first_result("other", token) is None
        assert submissions.commit_once("test", token, "second") == "first"
        assert submissions.first_result("test", None) is None
        assert submissions.commit_once("test", None, "untracked") == "untracked"
        rows = db.session.scalars(select(SubmissionToken)).all()
        assert [(r.purpose, r.result) for r in rows] == [("test", "first")]


def test_old_tokens_are_purged(app):
    with app.app_context():
        now = utcnow()
        for days, name in ((40, "old"), (29, "recent")):
            db.session.add(
                SubmissionToken(
                    purpose="test",
                    token=submissions.new_token(),
                    result=name,
                    created_at=now - timedelta(days=days),
                )
            )
        db.session.commit()
        assert submissions.purge_submission_tokens.call_local() == 1
        assert db.session.scalars(select(SubmissionToken.result)).all() == ["recent"]
