"""Residents' account pages: register, confirm, sign in and out, reset, change, delete, My council."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from portal.accounts import ratelimits, services
from portal.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    CodeForm,
    CurrentPasswordForm,
    EmailOnlyForm,
    EmptyForm,
    RegisterForm,
    ResetPasswordForm,
    SignInForm,
)
from portal.accounts.models import AccountToken, User
from portal.accounts.passwords import verify_password
from portal.accounts.sessions import (
    end_current_session,
    extend_current_session,
    revoke_sessions,
    start_session,
    time_left,
)
from portal.common.audit import record_audit
from portal.common.clock import uk_today
from portal.common.models import utcnow
from portal.common.redirects import safe_next
from portal.extensions import db

bp = Blueprint("accounts", __name__)

PENDING_SECONDS = 300  # time to give the second factor after the password
WRONG_SIGN_IN = "Enter a correct email address and password"


def kiosk() -> bool:
    return bool(g.get("kiosk"))


def _after_first_factor(user: User, remember: bool, next_url: str | None):
    """The password (or an emailed link) was right: ask for the second factor, or sign in."""
    if not user.needs_two_factor:
        return _finish_sign_in(user, remember, next_url)
    db.session.commit()
    session.clear()
    session["pending_user_id"] = user.id
    session["pending_at"] = time.time()
    session["pending_remember"] = remember
    session["pending_next"] = next_url
    if user.totp_secret:
        return redirect(url_for("accounts.two_factor"))
    return redirect(url_for("accounts.two_factor_setup"))


def _finish_sign_in(user: User, remember: bool, next_url: str | None) -> Response:
    """Start the session (new id), audit staff sign-ins, and go where the user was heading."""
    remember = remember and not kiosk() and not user.is_staff
    start_session(user, remember=remember)
    user.last_sign_in_at = utcnow()
    if user.is_staff:
        record_audit(
            "staff.sign_in",
            "user",
            user.id,
            {"email": user.email, "two_factor": user.needs_two_factor},
            actor=user,
        )
    db.session.commit()
    return redirect(
        next_url or url_for("staff.dashboard" if user.is_staff else "accounts.my_council")
    )


def _pending_user() -> User | None:
    """The user who gave a correct password and still owes a second factor, if in time."""
    user_id = session.get("pending_user_id")
    started = session.get("pending_at", 0)
    if not user_id or time.time() - float(started) > PENDING_SECONDS:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.disabled_at is not None:
        return None
    return user


def _clear_pending() -> None:
    for key in (
        "pending_user_id",
        "pending_at",
        "pending_remember",
        "pending_next",
        "setup_secret",
    ):
        session.pop(key, None)


# Sign in and out -----------------------------------------------------------------------------


def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.my_council"))
    form = SignInForm()
    next_url = safe_next(request.args.get("next"))
    if request.method == "POST":
        refusal = ratelimits.count_sign_in_attempt()
        if refusal is not None:
            return _locked(refusal)
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.commit()
            form.email.errors.append(WRONG_SIGN_IN)
        else:
            ratelimits.sign_in_succeeded()
            remember = bool(form.remember.data) and not kiosk()
            return _after_first_factor(user, remember, next_url)
    return render_template("accounts/sign_in.html", form=form, kiosk=kiosk(), next_url=next_url)


def _locked(refusal: ratelimits.Refusal) -> tuple[str, int, dict[str, str]]:
    """Too many failed sign-ins: say how long to wait, and offer the owner an emailed link."""
    form = EmailOnlyForm(formdata=None, email=request.form.get("email", ""))
    minutes = max(1, -(-refusal.retry_after // 60))
    body = render_template("accounts/sign_in_locked.html", form=form, retry_minutes=minutes)
    return body, 429, {"Retry-After": str(refusal.retry_after)}


def sign_in_link_request():
    """Email a one-time sign-in link (the way through a locked sign-in for the account owner)."""
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.send_sign_in_link(form.email.data)
        db.session.commit()
        session["sign_in_link_email"] = services.normalise_email(form.email.data)
        return redirect(url_for("accounts.sign_in_link_sent"))
    return render_template("accounts/sign_in_locked.html", form=form, retry_minutes=None), 400


def sign_in_link_sent():
    return render_template(
        "accounts/sign_in_link_sent.html", email=session.get("sign_in_link_email")
    )


def sign_in_link(token: str):
    """GET shows a button (a GET never signs in); POST spends the link and signs in."""
    row = services.find_token(token, AccountToken.SIGN_IN_LINK)
    if row is None:
        return render_template("accounts/link_expired.html", what="sign_in"), 404
    form = EmptyForm()
    if form.validate_on_submit():
        user = services.use_sign_in_link(row)
        ratelimits.clear_sign_in_account(user.email)
        # the link replaces the password, never the second factor
        return _after_first_factor(user, False, None)
    return render_template("accounts/sign_in_link.html", form=form, email=row.email)


def two_factor():
    user = _pending_user()
    if user is None or not user.totp_secret:
        _clear_pending()
        flash("Sign in again to continue.")
        return redirect(url_for("accounts.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        if services.check_second_factor(user, form.code.data):
            remember, next_url = session.get("pending_remember"), session.get("pending_next")
            _clear_pending()
            return _finish_sign_in(user, bool(remember), safe_next(next_url))
        db.session.rollback()
        form.code.errors.append("The security code is not right. Check it and try again")
    return render_template("accounts/two_factor.html", form=form)


def two_factor_setup():
    user = _pending_user()
    if user is None or user.totp_secret:
        _clear_pending()
        flash("Sign in again to continue.")
        return redirect(url_for("accounts.sign_in"))
    secret = session.get("setup_secret")
    if not secret:
        secret = services.new_totp_secret()
        session["setup_secret"] = secret
    form = CodeForm()
    form.code.description = "The 6-digit code your authenticator app shows for this account."
    if form.validate_on_submit():
        step = services.totp_step_matching(secret, form.code.data, None)
        if step is not None:
            codes = services.enrol_totp(user, secret)
            user.totp_last_step = step
            record_audit("account.two_factor_enrolled", "user", user.id, actor=user)
            remember, next_url = session.get("pending_remember"), session.get("pending_next")
            _clear_pending()
            _finish_sign_in(user, bool(remember), safe_next(next_url))
            return render_template(
                "accounts/recovery_codes.html",
                codes=codes,
                next_url=safe_next(next_url) or url_for("staff.dashboard"),
            )
        form.code.errors.append(
            "The security code is not right. Check the time on your phone and try again"
        )
    uri = services.totp_uri(secret, user.email)
    return render_template(
        "accounts/two_factor_setup.html",
        form=form,
        qr=services.qr_svg_data_uri(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )


def sign_out():
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate():
            abort(400)
        end_current_session()
        db.session.commit()
        response = redirect(url_for("accounts.signed_out"))
        response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
        return response
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/sign_out.html", form=form)


def stay_signed_in():
    """ "Stay signed in" from the timeout warning: counts as activity on the server-side session.

    The page's script asks for JSON and stays where it is; without it the form comes back to
    the page it was on.
    """
    wants_json = request.accept_mimetypes.best == "application/json"
    row = extend_current_session()
    if row is None:
        if wants_json:
            return {"signed_in": False}, 401
        flash("You were signed out because you had not done anything for a while.", "info")
        return redirect(url_for("accounts.sign_in", next=safe_next(request.form.get("next"))))
    db.session.commit()
    left = time_left(row)
    if wants_json:
        idle, absolute = left if left else (None, None)
        return {
            "signed_in": True,
            "idle_seconds": int(idle.total_seconds()) if idle is not None else None,
            "absolute_seconds": int(absolute.total_seconds()) if absolute is not None else None,
        }
    flash("You are still signed in.", "success")
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.my_council"))


def signed_out():
    return render_template("accounts/signed_out.html")


# Registration and confirmation ---------------------------------------------------------------


def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.my_council"))
    form = RegisterForm()
    if form.validate_on_submit():
        services.register_account(form.email.data, form.password.data, form.display_name.data)
        db.session.commit()
        session["check_email"] = services.normalise_email(form.email.data)
        return redirect(url_for("accounts.check_email"))
    return render_template("accounts/register.html", form=form)


def check_email():
    return render_template("accounts/check_email.html", email=session.get("check_email"))


def confirm_email(token: str):
    row = services.find_token(token, AccountToken.CONFIRM_EMAIL)
    if row is None:
        return render_template("accounts/link_expired.html", what="confirm"), 404
    form = EmptyForm()
    if form.validate_on_submit():
        user = services.confirm_email(row)
        db.session.commit()
        flash("Your email address is confirmed.", "success")
        # Offer what was done earlier with this address (only now that it is confirmed).
        after = "accounts.earlier_requests" if services.earlier_records(user) else None
        if current_user.is_authenticated and current_user.id == user.id:
            return redirect(url_for(after or "accounts.my_council"))
        if after:
            return redirect(url_for("accounts.sign_in", next=url_for(after)))
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/confirm_email.html", form=form, email=row.email)


@login_required
def resend_confirmation():
    form = EmptyForm()
    if not form.validate():
        abort(400)
    user = db.session.get(User, current_user.id)
    if user.email_confirmed_at is None:
        services.send_confirmation(user)
        db.session.commit()
    flash(f"We've sent a new confirmation link to {user.email}.", "success")
    return redirect(url_for("accounts.my_council"))


# Forgotten password --------------------------------------------------------------------------


def forgotten_password():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        session["reset_email"] = services.normalise_email(form.email.data)
        return redirect(url_for("accounts.reset_sent"))
    return render_template("accounts/forgotten_password.html", form=form)


def reset_sent():
    return render_template("accounts/reset_sent.html", email=session.get("reset_email"))


def reset_password(token: str):
    row = services.find_token(token, AccountToken.RESET_PASSWORD)
    if row is None:
        return render_template("accounts/link_expired.html", what="reset"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = services.reset_password(row, form.password.data)
        if user.is_staff:
            record_audit("account.password_reset", "user", user.id, actor=user)
        end_current_session()
        db.session.commit()
        flash("Your password has been changed. Sign in with your new password.", "success")
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset_password.html", form=form)


# My council and the account ------------------------------------------------------------------


def my_sections(user: User) -> list[dict[str, Any]]:
    sections = []
    providers = current_app.extensions.get("portal_my_council_sections", [])
    # The channels slice hides the sections staff acting for a caller may not see.
    visible = current_app.extensions.get("portal_my_council_visible")
    for _order, title, provider in sorted(providers, key=lambda item: item[0]):
        if visible is not None and not visible(provider):
            continue
        sections.append({"title": title, "rows": provider(user)})
    return sections


@login_required
def my_council():
    user = db.session.get(User, current_user.id)
    return render_template(
        "accounts/my_council.html",
        user=user,
        sections=my_sections(user),
        sessions=services.live_session_count(user),
        recovery_left=services.recovery_codes_left(user) if user.totp_enabled_at else 0,
        form=None,
        button_form=EmptyForm(),
    )


@login_required
def earlier_requests():
    """Offer to add what was done before signing in with the account's confirmed address."""
    user = db.session.get(User, current_user.id)
    found = services.earlier_records(user)
    error = ""
    if request.method == "POST" and user.email_confirmed_at is not None:
        form = EmptyForm()
        if not form.validate():
            abort(400)
        choice = request.form.get("add")
        if choice == "yes":
            added = services.claim_earlier_records(user)
            db.session.commit()
            total = sum(added.values())
            flash(
                f"We have added {total} earlier item{'s' if total != 1 else ''} to your account."
                if total
                else "There was nothing to add.",
                "success",
            )
            return redirect(url_for("accounts.my_council"), 303)
        if choice == "no":
            flash("Nothing was added to your account.", "success")
            return redirect(url_for("accounts.my_council"), 303)
        error = "Select yes if you want to add these to your account"
    return render_template(
        "accounts/earlier_requests.html",
        user=user,
        found=found,
        page_errors=[("#add", error)] if error else [],
        error=error,
    ), (400 if error else 200)


@login_required
def end_other_sessions():
    form = EmptyForm()
    if not form.validate():
        abort(400)
    user = db.session.get(User, current_user.id)
    count = revoke_sessions(user, keep_current=True)
    record_audit(
        "account.sessions_revoked", "user", user.id, {"reason": "own request", "count": count}
    )
    db.session.commit()
    flash("You have been signed out everywhere else.", "success")
    return redirect(url_for("accounts.my_council"))


@login_required
def change_password():
    form = ChangePasswordForm()
    if request.method == "GET":
        form.end_other_sessions.data = True
    if form.validate_on_submit():
        user = db.session.get(User, current_user.id)
        if not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append("Your current password is not right")
        else:
            services.set_password(user, form.password.data)
            message = "Your password has been changed."
            if form.end_other_sessions.data:
                count = revoke_sessions(user, keep_current=True)
                record_audit(
                    "account.sessions_revoked",
                    "user",
                    user.id,
                    {"reason": "password changed", "count": count},
                )
                message += " You have been signed out everywhere else."
            elif user.is_staff:
                record_audit("account.password_changed", "user", user.id)
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("accounts.my_council"))
    return render_template("accounts/change_password.html", form=form)


@login_required
def change_email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        user = db.session.get(User, current_user.id)
        if not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append("Your current password is not right")
        elif services.normalise_email(form.email.data) == user.email:
            form.email.errors.append(
                "Enter an email address that is different from your current one"
            )
        else:
            services.request_email_change(user, form.email.data)
            db.session.commit()
            flash(
                f"We've sent a link to {services.normalise_email(form.email.data)}. "
                "Open it to finish changing your email address.",
                "success",
            )
            return redirect(url_for("accounts.my_council"))
    return render_template("accounts/change_email.html", form=form)


def confirm_email_change(token: str):
    row = services.find_token(token, AccountToken.CHANGE_EMAIL)
    if row is None:
        return render_template("accounts/link_expired.html", what="change"), 404
    form = EmptyForm()
    if form.validate_on_submit():
        user = services.apply_email_change(row)
        db.session.commit()
        if user is None:
            flash("That email address is already used by another account. Nothing was changed.")
        else:
            flash(f"Your email address is now {user.email}.", "success")
        if current_user.is_authenticated:
            return redirect(url_for("accounts.my_council"))
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/confirm_email_change.html", form=form, email=row.email)


@login_required
def download_data():
    user = db.session.get(User, current_user.id)
    body = json.dumps(services.export_personal_data(user), indent=2, default=str)
    response = Response(body, mimetype="application/json")
    stamp = uk_today().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="my-council-data-{stamp}.json"'
    return response


@login_required
def delete_account():
    form = CurrentPasswordForm()
    user = db.session.get(User, current_user.id)
    if form.validate_on_submit():
        if user.is_staff:
            form.current_password.errors.append(
                "Staff accounts cannot be deleted here. Ask an administrator"
            )
        elif not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append("Your password is not right")
        else:
            email = user.email
            end_current_session()
            services.delete_account(user)
            db.session.commit()
            session["deleted_email"] = email
            response = redirect(url_for("accounts.account_deleted"))
            response.headers["Clear-Site-Data"] = '"cache", "storage"'
            return response
    return render_template("accounts/delete_account.html", form=form, user=user)


def account_deleted():
    return render_template("accounts/account_deleted.html")


def _route(rule: str, endpoint: str, view: Any, methods: list[str], limits: list | None = None):
    if limits:
        view = ratelimits.apply(view, limits)
    bp.add_url_rule(rule, endpoint, view, methods=methods)


GET, BOTH, POST = ["GET"], ["GET", "POST"], ["POST"]
_route("/sign-in", "sign_in", sign_in, BOTH)
_route(
    "/sign-in/email-link",
    "sign_in_link_request",
    sign_in_link_request,
    POST,
    ratelimits.limit_sign_in_link,
)
_route("/sign-in/email-link/sent", "sign_in_link_sent", sign_in_link_sent, GET)
_route("/sign-in/link/<token>", "sign_in_link", sign_in_link, BOTH)
_route("/sign-in/two-factor", "two_factor", two_factor, BOTH, ratelimits.limit_two_factor)
_route(
    "/sign-in/set-up-two-factor",
    "two_factor_setup",
    two_factor_setup,
    BOTH,
    ratelimits.limit_two_factor,
)
_route("/sign-out", "sign_out", sign_out, BOTH)
_route("/signed-out", "signed_out", signed_out, GET)
_route("/stay-signed-in", "stay_signed_in", stay_signed_in, POST)
_route("/register", "register", register, BOTH, ratelimits.limit_register)
_route("/register/check-your-email", "check_email", check_email, GET)
_route("/confirm-email/<token>", "confirm_email", confirm_email, BOTH)
_route(
    "/my/resend-confirmation",
    "resend_confirmation",
    resend_confirmation,
    POST,
    ratelimits.limit_resend,
)
_route(
    "/forgotten-password", "forgotten_password", forgotten_password, BOTH, ratelimits.limit_reset
)
_route("/forgotten-password/sent", "reset_sent", reset_sent, GET)
_route("/reset-password/<token>", "reset_password", reset_password, BOTH)
_route("/my", "my_council", my_council, GET)
_route("/my/end-other-sessions", "end_other_sessions", end_other_sessions, POST)
_route("/my/earlier-requests", "earlier_requests", earlier_requests, BOTH)
_route("/my/change-password", "change_password", change_password, BOTH)
_route("/my/change-email", "change_email", change_email, BOTH)
_route("/confirm-new-email/<token>", "confirm_email_change", confirm_email_change, BOTH)
_route("/my/data", "download_data", download_data, GET)
_route("/my/delete", "delete_account", delete_account, BOTH)
_route("/account-deleted", "account_deleted", account_deleted, GET)

__all__ = ["bp", "kiosk"]
