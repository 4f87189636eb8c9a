"""Rate limits on planning-alert sign-ups, which email whatever address they are given.

Counted per client address (visitors not signed in) and per recipient address, only for sign-ups
that pass validation and so send a confirmation email. Counts share Flask-Limiter's storage (Redis
in production); when that storage fails they follow its in-memory fallback (docs/security.md).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import RateLimitItem, parse

from portal.extensions import limiter

log = logging.getLogger(__name__)

ALERT_SIGNUP_PER_CLIENT = "10 per hour"
ALERT_SIGNUP_PER_RECIPIENT = "3 per hour"


def _alert_signup_limits(email: str) -> list[tuple[RateLimitItem, str, str]]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    recipient = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    limits = [(parse(ALERT_SIGNUP_PER_RECIPIENT), f"{prefix}:alert-recipient", recipient)]
    if not current_user.is_authenticated:
        limits.append((parse(ALERT_SIGNUP_PER_CLIENT), f"{prefix}:alert-ip", get_remote_address()))
    return limits


def alert_signup_wait_minutes(email: str) -> int | None:
    """Count one alert sign-up to `email`; the minutes to wait when a limit is reached, else None."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    try:
        strategy = limiter.limiter
        limits = _alert_signup_limits(email)
        for item, scope, key in limits:
            if not strategy.test(item, scope, key):
                reset_at = strategy.get_window_stats(item, scope, key).reset_time
                return max(1, math.ceil((reset_at - time.time()) / 60))
        for item, scope, key in limits:
            strategy.hit(item, scope, key)
    except Exception:  # storage failing: fail open, as the other limits do
        log.warning("planning alert rate limit not counted: storage unavailable", exc_info=True)
    return None
