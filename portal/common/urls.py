"""Absolute URLs, always on the configured public address (PORTAL_BASE_URL).

Every absolute link the portal gives out (in emails, API responses, feeds, payment gateway return
addresses) is built here, never from the request's Host or X-Forwarded-Host header: a request
must not be able to make the council send or publish a link to another host. Links the portal
stores (the e-enablement register's deliveries) are stored as paths and made absolute when shown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def base_url() -> str:
    """The portal's public address without a trailing slash, e.g. https://www.example.gov.uk."""
    return current_app.config["PORTAL"].base_url.rstrip("/")


def base_host() -> str:
    """The host (and port, when given) of the public address."""
    return urlsplit(base_url()).netloc


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of `endpoint` on the public address, inside a request or not."""
    parts = urlsplit(base_url())
    anchor = values.pop("_anchor", None)
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http"
    )
    url = adapter.build(endpoint, values, force_external=True)
    if anchor is not None:
        url += "#" + anchor
    return url


def absolute_url(path_or_url: str) -> str:
    """A stored path ("/forms/x") made absolute on the public address; full URLs unchanged."""
    if not path_or_url or "://" in path_or_url or path_or_url.startswith("//"):
        return path_or_url
    if not path_or_url.startswith("/"):
        path_or_url = "/" + path_or_url
    return base_url() + path_or_url


def path_of(url: str) -> str:
    """A URL on the public address reduced to its path (and query); other URLs unchanged."""
    base = base_url()
    if url.startswith(base + "/"):
        return url[len(base) :]
    if url == base:
        return "/"
    return url


def path_for(endpoint: str, **values: Any) -> str:
    """The path of `endpoint` (no scheme or host), inside a request or not: what is stored."""
    url = external_url(endpoint, **values)
    return path_of(url)
