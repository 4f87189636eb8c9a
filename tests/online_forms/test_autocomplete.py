"""Personal fields in the form runner say what they hold (WCAG 1.3.5), except on a kiosk."""

from __future__ import annotations

from tests.channels.helpers import enrol, kiosk_client
from tests.helpers.pages import check_html

EXPECTED = {
    # the contact page of the missed bin form
    "name": "name",
    "phone": "tel",
}
ADDRESS_FIELDS = {
    "address-postcode": "postal-code",
    "address-line1": "address-line1",
    "address-line2": "address-line2",
    "address-town": "address-level2",
    "address-manual-postcode": "postal-code",
}


def _tokens(client, url: str, ids) -> dict:  # noqa: ANN001
    soup = check_html(client.get(url))
    return {i: soup.find(id=i).get("autocomplete") for i in ids}


def test_contact_and_address_fields_have_autocomplete_tokens(runner_for):
    runner = runner_for("report-missed-bin")
    first = runner.start()
    assert _tokens(runner.client, first, ADDRESS_FIELDS) == ADDRESS_FIELDS
    contact = "/forms/report-missed-bin/page/contact"
    assert _tokens(runner.client, contact, EXPECTED) == EXPECTED


def test_email_question_has_its_token(runner_for):
    runner = runner_for("i-have-moved")
    runner.start()
    tokens = _tokens(runner.client, "/forms/i-have-moved/page/you", ["name", "email_address"])
    assert tokens == {"name": "name", "email_address": "email"}


def test_on_a_kiosk_nothing_is_offered_for_the_next_visitor(runner_for, demo):
    _, cookie, _ = enrol(demo)
    runner = runner_for("report-missed-bin", kiosk_client(demo, cookie))
    first = runner.start()
    off = {i: "off" for i in ADDRESS_FIELDS}
    assert _tokens(runner.client, first, ADDRESS_FIELDS) == off
    contact = "/forms/report-missed-bin/page/contact"
    assert _tokens(runner.client, contact, EXPECTED) == {"name": "off", "phone": "off"}
