"""Staff forms: a service page and a site-wide alert (interactions are validated in staff.py)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.council_services.catalogue import LIFE_EVENTS, TOPICS

URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def parse_links(text: str) -> list[dict[str, str]]:
    """'Text | https://…' per line → [{text, url}]; raises ValueError naming the bad line."""
    links = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "|" not in line:
            raise ValueError(
                f"Line {number} of related links needs link text, a | and a web address"
            )
        label, url = (part.strip() for part in line.split("|", 1))
        if not label or not URL_PATTERN.match(url):
            raise ValueError(
                f"Line {number} of related links needs link text and a web address starting https://"
            )
        links.append({"text": label[:200], "url": url[:500]})
    return links


class ServiceForm(FlaskForm):
    name = StringField(
        "Service name",
        widget=GovTextInput(),
        validators=[DataRequired(message="Enter the service name"), Length(max=200)],
    )
    lgsl = StringField(
        "LGSL number (optional)",
        widget=GovTextInput(),
        description="The Local Government Services List number, for example 524",
    )
    summary = TextAreaField(
        "Summary",
        widget=GovTextArea(),
        description="One or two sentences in plain English",
        validators=[DataRequired(message="Enter a summary"), Length(max=500)],
    )
    body = TextAreaField(
        "Page content",
        widget=GovTextArea(),
        description="You can use Markdown: ## for a heading, * for a bullet, [text](https://…) for a link",
    )
    synonyms = StringField(
        "Other words people use",
        widget=GovTextInput(),
        description="Separate with commas, for example bin, rubbish, refuse",
    )
    topics = SelectMultipleField(
        "Topics", choices=list(TOPICS.items()), widget=GovCheckboxesInput(), validators=[Optional()]
    )
    life_events = SelectMultipleField(
        "Life events",
        choices=list(LIFE_EVENTS.items()),
        widget=GovCheckboxesInput(),
        validators=[Optional()],
    )
    department = StringField("Department", widget=GovTextInput(), validators=[Length(max=120)])
    owner_id = SelectField("Owner", widget=GovSelect(), choices=[("", "No owner")])
    phone = StringField("Phone", widget=GovTextInput(), validators=[Length(max=60)])
    email = StringField(
        "Email",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Email(message="Enter an email address in the correct format, like name@example.com"),
        ],
    )
    address = TextAreaField("Address", widget=GovTextArea())
    opening_hours = StringField("Opening hours", widget=GovTextInput())
    related_links = TextAreaField(
        "Related links",
        widget=GovTextArea(),
        description="One a line: link text | https://web.address",
    )
    review_due = DateField(
        "Review due",
        widget=GovDateInput(),
        format="%d %m %Y",
        description="For example, 27 3 2027",
        validators=[DataRequired(message="Enter the review date as a real date, like 27 3 2027")],
    )
    status_notice = StringField(
        "Status notice (optional)",
        widget=GovTextInput(),
        description="Shown at the top of the page, for example Bin collections delayed by snow",
        validators=[Length(max=300)],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def validate_lgsl(self, field: StringField) -> None:
        value = (field.data or "").strip()
        if value and (not value.isdigit() or int(value) <= 0 or int(value) > 99999):
            raise ValidationError("Enter the LGSL number as a whole number, like 524")

    def validate_related_links(self, field: TextAreaField) -> None:
        try:
            parse_links(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # GOV.UK forms validate on the server; a `required` attribute on the date input's <div>
        # is not valid HTML.
        self.review_due.flags.required = False


class NoticeForm(FlaskForm):
    status_notice = StringField(
        "Status notice",
        widget=GovTextInput(),
        description="Leave empty to remove the notice",
        validators=[Length(max=300, message="Status notice must be 300 characters or fewer")],
    )
    submit = SubmitField("Save notice", widget=GovSubmitInput())


class AlertForm(FlaskForm):
    title = StringField(
        "Title",
        widget=GovTextInput(),
        validators=[DataRequired(message="Enter a title for the alert"), Length(max=120)],
    )
    message = TextAreaField(
        "Message",
        widget=GovTextArea(),
        validators=[DataRequired(message="Enter the alert message"), Length(max=1000)],
    )
    severity = RadioField(
        "Severity",
        choices=[("information", "Information"), ("warning", "Warning")],
        widget=GovRadioInput(),
        validators=[DataRequired(message="Select the severity")],
    )
    starts_at = StringField(
        "Starts",
        widget=GovTextInput(),
        description="Date and time, for example 2026-12-01 07:00. Leave empty to start now",
    )
    ends_at = StringField(
        "Ends (optional)",
        widget=GovTextInput(),
        description="Date and time, for example 2026-12-02 18:00",
    )
    submit = SubmitField("Publish alert", widget=GovSubmitInput())

    @staticmethod
    def parse_when(value: str) -> datetime | None:
        value = (value or "").strip()
        if not value:
            return None
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                return datetime.strptime(value, fmt)
            except ValueError:
                continue
        raise ValidationError("Enter a date and time like 2026-12-01 07:00")

    def validate_starts_at(self, field: StringField) -> None:
        self.parse_when(field.data)

    def validate_ends_at(self, field: StringField) -> None:
        end = self.parse_when(field.data)
        try:
            start = self.parse_when(self.starts_at.data)
        except ValidationError:
            return
        if end and start and end <= start:
            raise ValidationError("The end must be after the start")
