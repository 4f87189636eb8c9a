"""The account forms, with GOV.UK widgets and error messages in plain words."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovPasswordInput,
    GovTextInput,
)
from wtforms import BooleanField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import Email, InputRequired, Length, ValidationError

from portal.accounts.models import ROLE_DESCRIPTIONS, STAFF_ROLES
from portal.accounts.passwords import password_problem

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"


def _email_field(label: str = "Email address", required: str = "Enter your email address"):
    return StringField(
        label,
        validators=[
            InputRequired(message=required),
            Length(max=320, message="Email address must be 320 characters or fewer"),
            Email(message=EMAIL_FORMAT, granular_message=False),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        widget=GovTextInput(),
        render_kw={"autocomplete": "email", "spellcheck": "false", "type": "email"},
    )


class NewPasswordMixin:
    """Checks a new password against the policy (length, common passwords)."""

    def validate_password(self, field: PasswordField) -> None:
        email = getattr(getattr(self, "email", None), "data", "") or ""
        problem = password_problem(field.data or "", email)
        if problem:
            raise ValidationError(problem)


class SignInForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        "Password",
        validators=[InputRequired(message="Enter your password")],
        widget=GovPasswordInput(),
    )
    remember = BooleanField(
        "Keep me signed in on this device for 30 days", widget=GovCheckboxInput()
    )


class RegisterForm(NewPasswordMixin, FlaskForm):
    display_name = StringField(
        "Your name",
        validators=[
            InputRequired(message="Enter your name"),
            Length(max=200, message="Your name must be 200 characters or fewer"),
        ],
        widget=GovTextInput(),
        render_kw={"autocomplete": "name", "spellcheck": "false"},
    )
    email = _email_field(required="Enter an email address")
    password = PasswordField(
        "Create a password",
        description="Use 8 characters or more. A few unusual words together are easy to remember "
        "and hard to guess.",
        validators=[InputRequired(message="Enter a password")],
        widget=GovPasswordInput(),
    )


class EmailOnlyForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    password = PasswordField(
        "New password",
        description="Use 8 characters or more.",
        validators=[InputRequired(message="Enter a new password")],
        widget=GovPasswordInput(),
    )


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired(message="Enter your current password")],
        widget=GovPasswordInput(),
    )
    password = PasswordField(
        "New password",
        description="Use 8 characters or more.",
        validators=[InputRequired(message="Enter a new password")],
        widget=GovPasswordInput(),
    )
    end_other_sessions = BooleanField(
        "Sign me out everywhere else (recommended)", default=True, widget=GovCheckboxInput()
    )


class ChangeEmailForm(FlaskForm):
    email = _email_field(label="New email address", required="Enter your new email address")
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired(message="Enter your current password")],
        widget=GovPasswordInput(),
    )


class CurrentPasswordForm(FlaskForm):
    current_password = PasswordField(
        "Your password",
        validators=[InputRequired(message="Enter your password")],
        widget=GovPasswordInput(),
    )


class CodeForm(FlaskForm):
    code = StringField(
        "Security code",
        description="The 6-digit code from your authenticator app, or one of your recovery codes.",
        validators=[
            InputRequired(message="Enter the security code"),
            Length(max=20, message="Enter the 6-digit code from your authenticator app"),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        widget=GovTextInput(),
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "inputmode": "numeric"},
    )


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that POST."""


ROLE_CHOICES = [(role, f"{role.capitalize()}: {ROLE_DESCRIPTIONS[role]}") for role in STAFF_ROLES]


class RolesForm(FlaskForm):
    roles = SelectMultipleField(
        "Roles", choices=ROLE_CHOICES, widget=GovCheckboxesInput(), validate_choice=True
    )


class NewStaffForm(FlaskForm):
    display_name = StringField(
        "Full name",
        validators=[
            InputRequired(message="Enter their full name"),
            Length(max=200, message="Full name must be 200 characters or fewer"),
        ],
        widget=GovTextInput(),
        render_kw={"spellcheck": "false"},
    )
    email = _email_field(required="Enter their email address")
    roles = SelectMultipleField(
        "Roles", choices=ROLE_CHOICES, widget=GovCheckboxesInput(), validate_choice=False
    )

    def validate_roles(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError("Select at least one role")
        if set(field.data) - set(STAFF_ROLES):
            raise ValidationError("Select roles from the list")
