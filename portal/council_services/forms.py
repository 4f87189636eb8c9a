"""Staff forms: a service page and a site-wide alert (interactions are validated in staff.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
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
    Field,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.common.clock import UK, utc_now
from portal.common.dates import date_parts, typed_date
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


_TIME = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?", re.IGNORECASE)


def parse_time(text: str) -> time | None:
    """A time as people type it: 7am, 7:30pm, 19:30, 7.30, 12 noon is 12pm; None if empty."""
    text = text.strip().lower().replace("noon", "pm").replace("midnight", "am")
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if not match:
        raise ValueError(text)
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if half:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if half == "pm" else 0)
    return time(hour, minute)  # raises ValueError for 25:00 or 7:75


class UkMomentField(Field):
    """A moment staff type in UK time: a GOV.UK date input and a time box.

    The boxes are `<name>-day`, `-month`, `-year` and `-time`; `data` is an aware UTC datetime
    (or None when nothing was typed). The error summary links to the box in error.
    """

    def __init__(self, label: str, hint: str, whole_day_end: bool, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.hint = hint
        self.whole_day_end = whole_day_end
        self.parts: dict[str, str] = date_parts({}, self.name)
        self.time_text = ""
        self.time_error = False
        self.id = f"{self.name}-day"
        self._problem: tuple[str, str] | None = None

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        self.process_errors = []
        self.object_data = data
        self.raw_data = []
        self.data = None
        if formdata is None:
            return
        what = f"The {self.label.text.split(' (')[0].lower()} date"
        self.parts, day, problem = typed_date(formdata, self.name, what)
        self.time_text = (formdata.get(f"{self.name}-time") or "").strip()[:12]
        self.raw_data = [*self.parts.values(), self.time_text]
        if problem:
            self._problem = problem
            return
        try:
            moment = parse_time(self.time_text)
        except ValueError:
            self._problem = (f"#{self.name}-time", "Enter a real time, like 7am or 19:30")
            return
        if day is None:
            if moment is not None:
                self._problem = (f"#{self.name}-day", f"Enter {what.lower()}")
            return
        if moment is None:
            moment = time.min
            if self.whole_day_end:
                day += timedelta(days=1)
        self.data = datetime.combine(day, moment, tzinfo=UK).astimezone(UTC)

    def pre_validate(self, form: Any) -> None:
        if self._problem:
            href, message = self._problem
            self.id = href[1:]
            self.time_error = href.endswith("-time")
            raise ValidationError(message)

    def _value(self) -> str:
        return ""


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
    starts_at = UkMomentField(
        "Start",
        hint="Leave the date empty to start now. Without a time, it starts at the beginning of the day.",
        whole_day_end=False,
    )
    ends_at = UkMomentField(
        "End (optional)",
        hint="Without a time, it ends at the end of the day.",
        whole_day_end=True,
    )
    submit = SubmitField("Publish alert", widget=GovSubmitInput())

    def validate_ends_at(self, field: UkMomentField) -> None:
        end, start = field.data, self.starts_at.data
        if end and not self.starts_at.errors and end <= (start or utc_now()):
            raise ValidationError(
                "The end must be after the start" if start else "The end must be in the future"
            )
