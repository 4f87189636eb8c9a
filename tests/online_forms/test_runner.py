"""Completing forms: pages, branching, check answers, submit once, confirmation and email."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.common.clock import uk_today
from portal.common.models import OutboxEmail, ServiceTransaction
from portal.extensions import db
from portal.online_forms.models import FormDraft, FormSubmission
from tests.helpers.pages import check_html, error_summary
from tests.online_forms.conftest import ADDRESS


def missed_day():
    """A collection day two days ago: inside the form's 14-day window whenever the test runs."""
    return uk_today() - timedelta(days=2)


def recent_missed_on() -> dict:
    day = missed_day()
    return {
        "missed_on-day": str(day.day),
        "missed_on-month": str(day.month),
        "missed_on-year": str(day.year),
    }


def complete_missed_bin(runner, email="res@example.com"):
    url = runner.start()
    assert url.endswith("/page/where")
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"bin": "recycling"})
    url = runner.answer(url, {"out_by_7": "yes"})
    url = runner.answer(url, recent_missed_on())
    url = runner.answer(url, {"details": ""})
    url = runner.answer(url, {"name": "Ada Resident", "phone": "01632 960 001"})
    assert url.endswith("/check")
    return runner.submit({"email": email})


def test_missed_bin_end_to_end(demo, runner_for):
    runner = runner_for("report-missed-bin")
    response = complete_missed_bin(runner)
    done = runner.client.get(response.headers["Location"])
    soup = check_html(done)
    reference = soup.select_one("#reference").get_text()
    assert reference.startswith("FS-")
    with demo.app_context():
        submission = db.session.scalar(select(FormSubmission))
        assert submission.reference == reference
        assert submission.answers["bin"] == "recycling"
        assert submission.answers["missed_on"]["iso"] == missed_day().isoformat()
        assert submission.address_text.startswith("1 Abbey Road")
        rows = db.session.scalars(select(ServiceTransaction)).all()
        assert [(r.kind, r.lgsl, r.lgil, r.object_ref, r.channel) for r in rows] == [
            ("form_submission", 524, 0, reference, "web")
        ]
        email = db.session.scalar(
            select(OutboxEmail).where(OutboxEmail.to_address == "res@example.com")
        )
        assert reference in email.subject
        # Typed by someone who has not proved the address is theirs: no copy of the answers.
        assert "Which bin was missed?" not in email.body_text
        assert f"/forms/requests/{reference}" in email.body_text


def test_submit_twice_saves_once(demo, runner_for):
    runner = runner_for("report-missed-bin")
    complete_missed_bin(runner)
    # the button pressed again (or the page refreshed and resent)
    csrf = runner._csrf(runner.client.get("/forms/report-missed-bin").get_data(as_text=True))
    again = runner.client.post(
        "/forms/report-missed-bin/submit", data={"csrf_token": csrf, "token": runner.token}
    )
    assert again.status_code == 303 and "/done/" in again.headers["Location"]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(FormSubmission)) == 1
        assert db.session.scalar(select(func.count()).select_from(ServiceTransaction)) == 1


def test_submit_again_after_a_lost_response_shows_the_confirmation(demo, runner_for):
    """The submission was saved but its response never arrived (the connection dropped, the
    server process died): the browser still has the session from before the submit. Pressing
    Submit again must lead to the confirmation with the reference, not to "Page not found"."""
    runner = runner_for("report-missed-bin")
    url = runner.start()
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"bin": "recycling"})
    url = runner.answer(url, {"out_by_7": "yes"})
    url = runner.answer(url, recent_missed_on())
    url = runner.answer(url, {"details": ""})
    runner.answer(url, {"name": "Ada Resident", "phone": ""})
    check = runner.client.get("/forms/report-missed-bin/check").get_data(as_text=True)
    before = runner.client.get_cookie("session").value
    runner.submit()
    runner.client.set_cookie("session", before)  # the response (and its cookie) was lost
    again = runner.client.post(
        "/forms/report-missed-bin/submit",
        data={"csrf_token": runner._csrf(check), "token": runner.token},
    )
    assert again.status_code == 303 and "/done/" in again.headers["Location"]
    done = runner.client.get(again.headers["Location"])
    assert done.status_code == 200
    with demo.app_context():
        submission = db.session.scalar(select(FormSubmission))
        assert db.session.scalar(select(func.count()).select_from(FormSubmission)) == 1
    assert submission.reference in done.get_data(as_text=True)


def test_branch_to_exit_page(demo, runner_for):
    runner = runner_for("report-missed-bin")
    url = runner.start()
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"bin": "rubbish"})
    url = runner.answer(url, {"out_by_7": "no"})
    assert url.endswith("/exit/late")
    soup = check_html(runner.client.get(url))
    assert "We cannot come back for this bin" in soup.h1.get_text()
    # the check page is not reachable on this route
    assert runner.client.get("/forms/report-missed-bin/check").status_code == 302


def test_change_link_returns_to_check_answers(demo, runner_for):
    runner = runner_for("report-missed-bin")
    complete_url = runner.start()
    url = runner.answer(complete_url, ADDRESS)
    url = runner.answer(url, {"bin": "recycling"})
    url = runner.answer(url, {"out_by_7": "yes"})
    url = runner.answer(url, recent_missed_on())
    url = runner.answer(url, {"details": ""})
    runner.answer(url, {"name": "Ada", "phone": ""})
    soup = check_html(runner.client.get("/forms/report-missed-bin/check"))
    change = soup.find("a", href=lambda h: h and "/page/bin" in h)
    assert "change=1" in change["href"]
    back = runner.post(change["href"], {"bin": "garden-waste", "change": "1"})
    assert back.headers["Location"].endswith("/check")
    soup = check_html(runner.client.get("/forms/report-missed-bin/check"))
    assert "Garden waste" in soup.get_text()


def test_bad_answers_in_govuk_wording_keep_other_answers(demo, runner_for):
    runner = runner_for("report-missed-bin")
    url = runner.start()
    bad = runner.post(url, {"address_postcode": "SW1A 1AA"}, expect=400)
    soup = check_html(bad)
    assert error_summary(soup) == ["Enter a postcode in the Castlebrook Council area"]
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"bin": "recycling"})
    url = runner.answer(url, {"out_by_7": "yes"})
    bad = runner.post(
        url, {"missed_on-day": "31", "missed_on-month": "2", "missed_on-year": "2026"}, expect=400
    )
    soup = check_html(bad)
    assert error_summary(soup) == ["The date of the missed collection must be a real date"]
    assert soup.select_one("#missed_on-day")["value"] == "31"
    bad = runner.post(
        url, {"missed_on-day": "3", "missed_on-month": "", "missed_on-year": "2026"}, expect=400
    )
    assert error_summary(check_html(bad)) == [
        "The date of the missed collection must include a month"
    ]


def test_every_text_type_has_its_message(demo, runner_for):
    from werkzeug.datastructures import MultiDict

    from portal.online_forms.questions import PageResult, read_answer

    cases = [
        (
            {"id": "e", "type": "email", "label": "Email"},
            "nope",
            "Enter an email address in the correct format, like name@example.com",
        ),
        (
            {"id": "p", "type": "phone", "label": "Phone"},
            "123",
            "Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192",
        ),
        ({"id": "n", "type": "number", "label": "Items"}, "two", "Items must be a whole number"),
        (
            {"id": "m", "type": "money", "label": "Amount", "name": "the amount"},
            "12.345",
            "Enter the amount in pounds and pence, like 12.50",
        ),
        (
            {"id": "t", "type": "textarea", "label": "Story", "max_length": 5},
            "too long",
            "Story must be 5 characters or less",
        ),
        (
            {
                "id": "r",
                "type": "radios",
                "label": "Colour",
                "name": "a colour",
                "options": [{"value": "a", "label": "A"}],
            },
            "zzz",
            "Select a colour",
        ),
        (
            {"id": "d", "type": "declaration", "label": "Declaration"},
            "",
            "Confirm that the declaration is true",
        ),
    ]
    with demo.test_request_context():
        for question, value, message in cases:
            result = PageResult()
            read_answer(question, MultiDict({question["id"]: value}), None, 0, result)
            assert result.errors == [(question["id"], message)], question
            assert result.answers[question["id"]] in (value, "")


def test_file_upload_type_size_and_count(demo, runner_for, tmp_path):
    import io

    from PIL import Image

    def png() -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (20, 20), "red").save(out, format="PNG")
        return out.getvalue()

    runner = runner_for("resident-parking-permit")
    url = runner.start()
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"registration": "CK21 ABC"})
    assert url.endswith("/page/proof")
    wrong = runner.post(
        url,
        {"proof": (io.BytesIO(b"hello"), "notes.txt"), "upload": "1"},
        expect=400,
        content_type="multipart/form-data",
    )
    assert error_summary(check_html(wrong)) == [
        "notes.txt: The selected file must be a PDF, JPG or PNG"
    ]
    big = runner.post(
        url,
        {"proof": (io.BytesIO(b"%PDF" + b"0" * (5 * 1024 * 1024)), "big.pdf"), "upload": "1"},
        expect=400,
        content_type="multipart/form-data",
    )
    assert error_summary(check_html(big)) == ["big.pdf: The selected file must be smaller than 5MB"]
    ok = runner.post(
        url,
        {
            "proof": [(io.BytesIO(png()), "bill.png"), (io.BytesIO(b"%PDF-1.4 x"), "lease.pdf")],
            "upload": "1",
        },
        expect=200,
        content_type="multipart/form-data",
    )
    assert "bill.png" in ok.get_data(as_text=True)
    # the input is gone once the limit is reached; a forced third file is refused
    extra = runner.post(
        url,
        {"proof": (io.BytesIO(b"%PDF-1.4 y"), "more.pdf")},
        expect=400,
        content_type="multipart/form-data",
    )
    assert error_summary(check_html(extra)) == ["You can only upload 2 files"]
    nxt = runner.post(url, {}, content_type="multipart/form-data")
    assert nxt.headers["Location"].endswith("/page/start")


def test_required_file_message(demo, runner_for):
    runner = runner_for("resident-parking-permit")
    url = runner.start()
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"registration": "CK21 ABC"})
    missing = runner.post(url, {}, expect=400, content_type="multipart/form-data")
    assert error_summary(check_html(missing)) == ["Select a file"]


def test_save_and_come_back_by_email_link(demo, runner_for):
    runner = runner_for("report-missed-bin")
    url = runner.start()
    url = runner.answer(url, ADDRESS)
    saved = runner.post(url, {"bin": "recycling", "save": "1"})
    assert saved.headers["Location"].endswith("/save")
    sent = runner.post("/forms/report-missed-bin/save", {"email": "later@example.com"}, expect=200)
    assert "We have sent you a link" in sent.get_data(as_text=True)
    with demo.app_context():
        email = db.session.scalar(
            select(OutboxEmail).where(OutboxEmail.to_address == "later@example.com")
        )
        link = next(w for w in email.body_text.split() if "/resume/" in w)
    other = demo.test_client()
    response = other.get(link.replace("http://127.0.0.1:5000", ""))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/page/out")
    page = other.get("/forms/report-missed-bin/page/bin")
    assert 'value="recycling" checked' in page.get_data(as_text=True)
    # after 7 days the link no longer works
    with demo.app_context():
        from datetime import timedelta

        draft = db.session.scalar(select(FormDraft))
        draft.resume_expires_at = draft.resume_expires_at - timedelta(days=8)
        db.session.commit()
    assert demo.test_client().get(link.replace("http://127.0.0.1:5000", "")).status_code == 404


def test_signed_in_draft_appears_in_my_council(demo, runner_for):
    from portal.online_forms.views import my_council_rows
    from tests.helpers.auth import client_for, make_user

    user = make_user(demo, "saver@example.com")
    runner = runner_for("report-missed-bin", client_for(demo, user))
    url = runner.start()
    runner.post(url, {**ADDRESS, "save": "1"})
    with demo.test_request_context():
        rows = my_council_rows(user)
    assert rows[0]["status"] == "Saved" and "/resume/" in rows[0]["href"]
    assert runner.client.get(rows[0]["href"]).headers["Location"].endswith("/page/bin")
    # another resident cannot use that link
    stranger = client_for(demo, make_user(demo, "other@example.com"))
    assert stranger.get(rows[0]["href"]).status_code == 404


def test_email_failure_never_loses_the_submission(demo, runner_for, monkeypatch):
    from portal.common import outbox

    def broken(message):
        raise OSError("smtp down")

    monkeypatch.setattr(outbox, "transport_send", broken)
    runner = runner_for("report-missed-bin")
    complete_missed_bin(runner)
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(FormSubmission)) == 1
        email = db.session.scalar(select(OutboxEmail))
        assert email.status == OutboxEmail.PENDING and email.attempts == 1


def test_abandoned_drafts_and_their_files_are_deleted(demo, runner_for):
    import io
    from datetime import timedelta

    from portal.common import storage
    from portal.online_forms.jobs import delete_abandoned_form_drafts
    from portal.online_forms.models import SubmissionFile

    runner = runner_for("resident-parking-permit")
    url = runner.start()
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"registration": "CK21 ABC"})
    runner.post(
        url,
        {"proof": (io.BytesIO(b"%PDF-1.4 x"), "bill.pdf"), "upload": "1"},
        expect=200,
        content_type="multipart/form-data",
    )
    fresh = runner_for("report-missed-bin")
    fresh.start()
    with demo.app_context():
        old = db.session.scalar(select(FormDraft).order_by(FormDraft.id))
        old.updated_at = old.updated_at - timedelta(days=31)
        db.session.commit()
        key = db.session.scalar(select(SubmissionFile)).storage_key
        assert storage.path_for(key).exists()
        assert delete_abandoned_form_drafts.call_local() == 1
        assert not storage.path_for(key).exists()
        assert db.session.scalar(select(func.count()).select_from(FormDraft)) == 1


def test_my_council_page_lists_saved_forms(demo, runner_for):
    import pytest
    from flask import url_for

    from tests.helpers.auth import client_for, make_user

    if "accounts.my_council" not in demo.view_functions:
        pytest.skip("the My council page comes with the accounts slice")
    user = make_user(demo, "saver@example.com")
    runner = runner_for("report-missed-bin", client_for(demo, user))
    url = runner.start()
    runner.post(url, {**ADDRESS, "save": "1"})
    with demo.test_request_context():
        path = url_for("accounts.my_council")
    body = runner.client.get(path).get_data(as_text=True)
    assert "Continue: Report a missed bin collection" in body
