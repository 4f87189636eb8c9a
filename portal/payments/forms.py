"""Forms of the payments slice (GOV.UK widgets; every error in GOV.UK wording)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovTextArea, GovTextInput
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from portal.common.clock import uk_today
from portal.payments.bills import BILL_TYPES
from portal.payments.models import STATE_LABELS


def bill_type_choices() -> list[tuple[str, str]]:
    return [(bt.code, bt.title) for bt in BILL_TYPES.values()]


class BillTypeForm(FlaskForm):
    bill_type = RadioField(
        "What do you want to pay?",
        choices=bill_type_choices(),
        validators=[InputRequired("Select what you want to pay")],
        widget=GovRadioInput(),
    )


class BillForm(FlaskForm):
    """Reference, amount (unless fixed by the reference) and an email address for the receipt."""

    reference = StringField(
        "Reference",
        validators=[DataRequired("Enter your reference")],
        widget=GovTextInput(),
    )
    amount = StringField("Amount to pay", widget=GovTextInput())
    email = StringField(
        "Email address",
        validators=[
            DataRequired("Enter your email address, so we can send your receipt"),
            Email("Enter an email address in the correct format, like name@example.com"),
            Length(max=320),
        ],
        widget=GovTextInput(),
    )


class PhonePaymentForm(BillForm):
    bill_type = SelectField(
        "Bill type",
        choices=bill_type_choices(),
        validators=[InputRequired("Select the bill type")],
        widget=GovSelect(),
    )
    email = StringField(
        "Caller's email address for the receipt (optional)",
        validators=[
            Optional(),
            Email("Enter an email address in the correct format, like name@example.com"),
            Length(max=320),
        ],
        widget=GovTextInput(),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Checked on the server; a required <select> must start with an empty option in HTML.
        self.bill_type.flags.required = False


class RefundForm(FlaskForm):
    amount = StringField("Amount to refund", widget=GovTextInput())
    reason = TextAreaField(
        "Reason for the refund",
        validators=[
            DataRequired("Enter the reason for the refund"),
            Length(max=300, message="The reason must be 300 characters or fewer"),
        ],
        widget=GovTextArea(),
    )
    request_key = HiddenField()


class SandboxCardForm(FlaskForm):
    card_number = StringField(
        "Card number", validators=[DataRequired("Enter the card number")], widget=GovTextInput()
    )
    expiry = StringField(
        "Expiry date", validators=[DataRequired("Enter the expiry date")], widget=GovTextInput()
    )
    name = StringField(
        "Name on card",
        validators=[DataRequired("Enter the name on the card"), Length(max=100)],
        widget=GovTextInput(),
    )
    cvc = StringField(
        "Card security code",
        validators=[DataRequired("Enter the card security code")],
        widget=GovTextInput(),
    )

    def validate_card_number(self, field: StringField) -> None:
        digits = "".join(ch for ch in field.data or "" if ch.isdigit())
        if len(digits) != 16 or not (field.data or "").replace(" ", "").isdigit():
            raise ValidationError("Enter a card number of 16 digits")
        field.data = digits

    def validate_expiry(self, field: StringField) -> None:
        text = (field.data or "").replace(" ", "")
        try:
            month_text, year_text = text.split("/")
            month, year = int(month_text), 2000 + int(year_text[-2:])
        except ValueError:
            raise ValidationError("Enter the expiry date like 04/30") from None
        if not 1 <= month <= 12 or len(year_text) not in (2, 4):
            raise ValidationError("Enter the expiry date like 04/30")
        today = uk_today()
        if (year, month) < (today.year, today.month):
            raise ValidationError("The card has expired: use a card with a future expiry date")

    def validate_cvc(self, field: StringField) -> None:
        text = (field.data or "").strip()
        if not (text.isdigit() and len(text) in (3, 4)):
            raise ValidationError("Enter the 3 or 4 digit card security code")


STATE_FILTER = [("", "Any state"), *STATE_LABELS.items()]
