"""Password policy and hashing: 8 to 128 characters, no composition rules, not a common password;
scrypt with N=2^17, r=8, p=1; older or weaker hashes are upgraded at the next sign-in.

An app built with ``PORTAL_ENV=test`` may ask for a cheaper N through its Flask config key
``TEST_SCRYPT_LOG2_N`` (the test suite does, so each hash costs milliseconds, not half a second);
every other environment ignores that key and always uses N=2^17.

Stored format: ``scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>``. Werkzeug's formats
(``scrypt:32768:8:1$…``, ``pbkdf2:…``) are still verified, so accounts created before are upgraded.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import secrets
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context
from werkzeug.security import check_password_hash

SCRYPT_LOG2_N = 17
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 64
# scrypt needs 128 * N * r bytes (128 MiB here); OpenSSL's default ceiling is 32 MiB.
SCRYPT_MAXMEM = 256 * 1024 * 1024

MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def password_problem(password: str, email: str = "") -> str | None:
    """Why `password` is refused, in plain words, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = password.lower()
    if lowered in common_passwords() or lowered.strip() in common_passwords():
        return "This password is too common and easy to guess. Choose a different password"
    if email and lowered == email.lower():
        return "Your password cannot be your email address"
    return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=2**log2_n,
        r=r,
        p=p,
        maxmem=SCRYPT_MAXMEM,
        dklen=HASH_BYTES,
    )


def work_factor() -> int:
    """scrypt's log2 N for new hashes: 17, or a test app's cheaper ``TEST_SCRYPT_LOG2_N``."""
    if has_app_context():
        settings = current_app.config.get("PORTAL")
        cheaper = current_app.config.get("TEST_SCRYPT_LOG2_N")
        if cheaper and settings is not None and settings.env == "test":
            return int(cheaper)
    return SCRYPT_LOG2_N


def hash_password(password: str) -> str:
    """A new scrypt hash of `password` with the current parameters."""
    salt = secrets.token_bytes(SALT_BYTES)
    log2_n = work_factor()
    digest = _scrypt(password, salt, log2_n, SCRYPT_R, SCRYPT_P)
    return f"scrypt${log2_n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored` (in this module's format or Werkzeug's)."""
    if not stored:
        return False
    if stored.startswith("scrypt$"):
        try:
            _, log2_n, r, p, salt, digest = stored.split("$")
            expected = base64.b64decode(digest)
            actual = _scrypt(password, base64.b64decode(salt), int(log2_n), int(r), int(p))
        except (ValueError, TypeError):
            return False
        return hmac.compare_digest(actual, expected)
    try:
        return check_password_hash(stored, password)
    except (ValueError, TypeError):
        return False


def needs_rehash(stored: str | None) -> bool:
    """True when `stored` was made with another algorithm or weaker parameters."""
    if not stored or not stored.startswith("scrypt$"):
        return True
    try:
        _, log2_n, r, p, _salt, _digest = stored.split("$")
    except ValueError:
        return True
    return (int(log2_n), int(r), int(p)) != (work_factor(), SCRYPT_R, SCRYPT_P)


_DUMMY_HASH: dict[int, str] = {}  # work factor -> a throw-away hash made with it


def spend_equal_time(password: str) -> None:
    """Verify against a throw-away hash, so an unknown email takes as long as a wrong password."""
    log2_n = work_factor()
    if log2_n not in _DUMMY_HASH:
        _DUMMY_HASH[log2_n] = hash_password(secrets.token_urlsafe(16))
    verify_password(_DUMMY_HASH[log2_n], password)
