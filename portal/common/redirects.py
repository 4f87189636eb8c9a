"""The one check for a "where to go next" address taken from a request (`next`, forms, links).

Only a plain same-site path is accepted: it starts with a single "/", holds printable ASCII only
(no spaces, tabs, newlines or other characters browsers strip or fold before parsing), no
backslash (browsers read it as "/"), and neither it nor its percent-decoded form could be read as
another site (`//host`, `/\\host`, a scheme). Everything else gives the default.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

_MAX_LENGTH = 2000


def _plain_path(target: str, *, ascii_only: bool = True) -> bool:
    if not target.startswith("/") or target.startswith("//"):
        return False
    for ch in target:
        code = ord(ch)
        if code < 0x20 or code == 0x7F or (ascii_only and ch.isspace()):
            return False
        if code > 0x7E and (ascii_only or not ch.isprintable()):
            return False
    if "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def is_safe_next(target: str | None) -> bool:
    """True when `target` is a same-site path that no browser could send elsewhere."""
    if not target or len(target) > _MAX_LENGTH or not _plain_path(target):
        return False
    # Decoded forms must be as plain: a proxy or a second redirect may decode once more.
    decoded = target
    for _ in range(3):
        once = unquote(decoded)
        if once == decoded:
            break
        if not _plain_path(once, ascii_only=False):
            return False
        decoded = once
    return True


def safe_next(target: str | None, default: str | None = None) -> str | None:
    """`target` when it is a safe same-site path, otherwise `default`."""
    return target if is_safe_next(target) else default
