"""A live server in a thread and the axe check, for Playwright tests in Debian's Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Nothing but the loopback server is reached (there is no network here): other hosts fail at
    # once rather than at a timeout, without a Playwright route, which would turn off the cache.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
_axe = Axe()


@dataclass
class LiveServer:
    app: Flask
    url: str

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@contextmanager
def serve(app: Flask) -> Iterator[LiveServer]:
    """Serve `app` on a free loopback port in a background thread.

    The server's address becomes the app's PORTAL_BASE_URL while it runs: absolute links
    (payment returns, emails) are built from that setting, never from the request's host.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    settings = app.config["PORTAL"]
    configured, settings.base_url = settings.base_url, url
    # serve_forever checks for shutdown every poll_interval (0.5 s by default): each test's
    # teardown waited that long for nothing.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=url)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        settings.base_url = configured


# What Playwright says when a page navigates away while a script runs in it.
_NAVIGATED = ("Execution context was destroyed", "reading 'documentElement'")


def _reveal_expanded_only(violation: dict, node: dict) -> bool:
    """GOV.UK Frontend's conditional reveals put aria-expanded on the radio or checkbox that
    controls them, on purpose: screen readers announce it, though ARIA 1.2 does not list it for
    those roles (a known issue of the design system, alphagov/govuk-frontend#979). That one
    finding is accepted; any other attribute on those inputs still fails."""
    if violation["id"] != "aria-allowed-attr" or "aria-controls=" not in node["html"]:
        return False
    if not node["html"].startswith('<input class="govuk-'):
        return False
    found = [item for check in node["all"] + node["any"] for item in check.get("data") or []]
    return bool(found) and all(str(item).startswith("aria-expanded=") for item in found)


def axe_violations(page) -> list[str]:  # noqa: ANN001
    """axe-core's violations on the page as readable lines (empty when there are none).

    If the page is still navigating (a click just submitted a form), axe waits for the new
    document to load and checks that one: the page the visitor is about to see.
    """
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}}
    page.wait_for_load_state("load")
    try:
        results = _axe.run(page, options=options)
    except PlaywrightError as error:
        if not any(marker in str(error) for marker in _NAVIGATED):
            raise
        page.wait_for_load_state("load")
        results = _axe.run(page, options=options)
    lines = []
    for violation in results.response["violations"]:
        nodes = [n for n in violation["nodes"] if not _reveal_expanded_only(violation, n)]
        if not nodes:
            continue
        targets = [", ".join(node["target"]) for node in nodes][:5]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return lines


def assert_accessible(page, label: str = "") -> None:  # noqa: ANN001
    violations = axe_violations(page)
    assert not violations, f"axe violations on {label or page.url}:\n" + "\n".join(violations)
