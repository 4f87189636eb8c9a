"""Rate limits on the account forms (Flask-Limiter; Redis storage when PORTAL_REDIS_URL is set).

Each limit counts POSTs only, per client IP and, where a form names an account, per account too.

Sign-in counts failures only: every attempt is counted up front (one atomic increment in the
shared storage, so the limit is exact across workers and nodes) and a successful sign-in gives
its count back. So an office or a library behind one address is never locked out by the people
who sign in correctly there. The first refusal in a window is written to the audit log.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from flask import current_app, request, session
from flask_limiter.util import get_remote_address
from limits import parse
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import limiter

log = logging.getLogger(__name__)

SIGN_IN = "10 per 5 minutes"
TWO_FACTOR = "10 per 5 minutes"
REGISTER = "10 per hour"
RESET = "5 per 15 minutes"
RESEND_CONFIRMATION = "5 per hour"
SIGN_IN_LINK = "3 per hour"  # emailed sign-in links, per address asked for
SIGN_IN_LINK_IP = "10 per hour"


def _account_key(prefix: str) -> str:
    email = (request.form.get("email") or "").strip().lower()
    return f"{prefix}:{hashlib.sha256(email.encode()).hexdigest()[:32]}"


def sign_in_account_key() -> str:
    return _account_key("sign-in-account")


def sign_in_link_key() -> str:
    return _account_key("sign-in-link-account")


def reset_account_key() -> str:
    return _account_key("reset-account")


def pending_user_key() -> str:
    return f"two-factor:{session.get('pending_user_id', get_remote_address())}"


def signed_in_user_key() -> str:
    from flask_login import current_user

    return f"user:{current_user.get_id() or get_remote_address()}"


POST = ["POST"]
limit_sign_in_link = [
    limiter.limit(SIGN_IN_LINK_IP, methods=POST, scope="sign-in-link-ip"),
    limiter.limit(
        SIGN_IN_LINK, methods=POST, key_func=sign_in_link_key, scope="sign-in-link-account"
    ),
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


# Sign-in: failures only ----------------------------------------------------------------------

SIGN_IN_ITEM = parse(SIGN_IN)


@dataclass
class Refusal:
    """A sign-in attempt refused by a limit: which one, and seconds until it resets."""

    scope: str  # "ip" or "account"
    retry_after: int


def _sign_in_keys() -> dict[str, str]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "portal")
    return {
        "ip": SIGN_IN_ITEM.key_for(prefix, "sign-in-failures-ip", get_remote_address()),
        "account": SIGN_IN_ITEM.key_for(prefix, "sign-in-failures", sign_in_account_key()),
    }


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED"))


def _counted(action):  # noqa: ANN001, ANN202
    """Run `action(storage)` on the storage the limiter is using; when Redis refuses or hangs,
    on the limiter's in-memory fallback instead (docs/security.md: limits never fail a page)."""
    try:
        return action(limiter.limiter.storage)
    except Exception:  # a Redis connection or timeout error: the limiter marks Redis dead too
        fallback = getattr(limiter, "_fallback_storage", None)
        log.warning("rate-limit storage is not answering: counting sign-ins in this worker")
        if fallback is None:
            return None
        return action(fallback)


def count_sign_in_attempt() -> Refusal | None:
    """Count this attempt for the client address and the account named; a Refusal when over.

    The count is kept unless `sign_in_succeeded` gives it back.
    """
    if not _enabled():
        return None
    refusal = None
    for scope, key in _sign_in_keys().items():
        counted = _counted(
            lambda storage, key=key: (
                storage.incr(key, SIGN_IN_ITEM.get_expiry()),
                storage.get_expiry(key),
            )
        )
        if counted is None:
            continue
        count, expires_at = counted
        if count > SIGN_IN_ITEM.amount and refusal is None:
            refusal = Refusal(scope, max(1, int(expires_at - time.time())))
            if count == SIGN_IN_ITEM.amount + 1:
                _record_lockout(scope)
    return refusal


def sign_in_succeeded() -> None:
    """The password was right: this attempt does not count against the address or account."""
    if not _enabled():
        return
    for key in _sign_in_keys().values():
        _counted(
            lambda storage, key=key: (
                storage.get(key) > 0 and storage.incr(key, SIGN_IN_ITEM.get_expiry(), amount=-1)
            )
        )


def clear_sign_in_account(email: str) -> None:
    """The owner proved the address (an emailed sign-in link): lift the lock on that account."""
    if not _enabled():
        return
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "portal")
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    key = SIGN_IN_ITEM.key_for(prefix, "sign-in-failures", f"sign-in-account:{digest}")
    _counted(lambda storage: storage.clear(key))


def _record_lockout(scope: str) -> None:
    """Write the first refusal of a window to the audit log (in its own commit)."""
    from portal.accounts.services import user_by_email
    from portal.common.audit import record_audit
    from portal.extensions import db

    ip = get_remote_address()
    log.warning("sign-in locked for 5 minutes: %s (from %s)", scope, ip)
    try:
        if scope == "ip":
            record_audit("sign_in.locked_address", "address", ip, {"ip": ip})
        else:
            user = user_by_email(request.form.get("email") or "")
            record_audit(
                "sign_in.locked_account",
                "user" if user else "email",
                user.id if user else sign_in_account_key().split(":", 1)[1],
                {"ip": ip},
            )
        db.session.commit()
    except SQLAlchemyError:
        # SQLite under a burst of sign-ins can stay locked past its timeout: the refusal itself
        # must still be answered (it is logged above).
        db.session.rollback()
        log.exception("could not write the sign-in lockout to the audit log")


def apply(view, limits):  # noqa: ANN001, ANN201
    """Wrap `view` in each of `limits`."""
    for limit in limits:
        view = limit(view)
    return view
