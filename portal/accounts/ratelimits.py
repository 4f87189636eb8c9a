"""Rate limits on the account forms (Flask-Limiter; Redis storage when PORTAL_REDIS_URL is set).

Each limit counts POSTs only, per client IP and, where a form names an account, per account too.
"""

from __future__ import annotations

import hashlib

from flask import request, session
from flask_limiter.util import get_remote_address

from portal.extensions import limiter

SIGN_IN = "10 per 5 minutes"
TWO_FACTOR = "10 per 5 minutes"
REGISTER = "10 per hour"
RESET = "5 per 15 minutes"
RESEND_CONFIRMATION = "5 per hour"


def _account_key(prefix: str) -> str:
    email = (request.form.get("email") or "").strip().lower()
    return f"{prefix}:{hashlib.sha256(email.encode()).hexdigest()[:32]}"


def sign_in_account_key() -> str:
    return _account_key("sign-in-account")


def reset_account_key() -> str:
    return _account_key("reset-account")


def pending_user_key() -> str:
    return f"two-factor:{session.get('pending_user_id', get_remote_address())}"


def signed_in_user_key() -> str:
    from flask_login import current_user

    return f"user:{current_user.get_id() or get_remote_address()}"


POST = ["POST"]
limit_sign_in = [
    limiter.limit(SIGN_IN, methods=POST, scope="sign-in-ip"),
    limiter.limit(SIGN_IN, methods=POST, key_func=sign_in_account_key, scope="sign-in-account"),
]
limit_two_factor = [
    limiter.limit(TWO_FACTOR, methods=POST, scope="two-factor-ip"),
    limiter.limit(TWO_FACTOR, methods=POST, key_func=pending_user_key, scope="two-factor-user"),
]
limit_register = [limiter.limit(REGISTER, methods=POST, scope="register-ip")]
limit_reset = [
    limiter.limit(RESET, methods=POST, scope="reset-ip"),
    limiter.limit(RESET, methods=POST, key_func=reset_account_key, scope="reset-account"),
]
limit_resend = [
    limiter.limit(RESEND_CONFIRMATION, methods=POST, key_func=signed_in_user_key, scope="resend")
]


def apply(view, limits):  # noqa: ANN001, ANN201
    """Wrap `view` in each of `limits`."""
    for limit in limits:
        view = limit(view)
    return view
