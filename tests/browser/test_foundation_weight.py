"""The front-end budget: the home page's first view, measured in a real browser.

First view ≤ 130 KB gzipped including CSS, JS and fonts; JS ≤ 35 KB gzipped; nothing fetched
from another origin; every static asset under a content-hashed URL cached for a year.
"""

from __future__ import annotations

import gzip
import re
from urllib.parse import urlsplit

import pytest

from portal.demo import load_all
from tests.helpers.browser import serve

pytestmark = pytest.mark.browser

PAGE_BUDGET = 130 * 1024
JS_BUDGET = 35 * 1024
ONE_YEAR = 365 * 24 * 3600
HASHED_ASSET = re.compile(r"^/assets/[0-9a-f]{10}/")


def first_view(browser, url: str) -> list[dict]:  # noqa: ANN001
    """Every response of a first visit with an empty cache: url, type, gzipped size, headers."""
    context = browser.new_context()
    page = context.new_page()
    seen: list[dict] = []

    def record(response) -> None:  # noqa: ANN001
        if response.url.startswith("data:"):
            return
        body = response.body() if response.status < 300 else b""
        seen.append(
            {
                "url": response.url,
                "type": response.request.resource_type,
                "gzipped": len(gzip.compress(body, compresslevel=6)),
                "headers": response.headers,
            }
        )

    page.on("response", record)
    page.goto(url, wait_until="networkidle")
    context.close()
    return seen


@pytest.mark.parametrize("path", ["/", "/your-area"])
def test_first_view_is_within_the_budget(app, browser, path):
    with app.app_context():
        load_all()
    with serve(app) as server:
        responses = first_view(browser, server(path))
        origin = urlsplit(server.url).netloc
    foreign = [r["url"] for r in responses if urlsplit(r["url"]).netloc != origin]
    assert not foreign, f"third-party requests: {foreign}"
    total = sum(r["gzipped"] for r in responses)
    script = sum(r["gzipped"] for r in responses if r["type"] == "script")
    kinds = {r["type"] for r in responses}
    assert {"document", "stylesheet", "script"} <= kinds
    assert total <= PAGE_BUDGET, f"first view {total / 1024:.1f} KB gzipped"
    assert script <= JS_BUDGET, f"JavaScript {script / 1024:.1f} KB gzipped"
    print(f"{path}: first view {total / 1024:.1f} KB, JS {script / 1024:.1f} KB gzipped")


def test_static_assets_have_hashed_names_and_long_lived_caching(app, browser):
    with serve(app) as server:
        responses = first_view(browser, server("/"))
    assets = [r for r in responses if r["type"] != "document"]
    assert len(assets) >= 4  # stylesheet, two scripts, the module, the favicon
    for asset in assets:
        path = urlsplit(asset["url"]).path
        assert HASHED_ASSET.match(path), f"{path} is not under a content-hashed URL"
        cache = asset["headers"].get("cache-control", "")
        max_age = int(re.search(r"max-age=(\d+)", cache)[1])
        assert max_age >= ONE_YEAR and "immutable" in cache, f"{path}: {cache}"
    page = [r for r in responses if r["type"] == "document"][0]
    assert "immutable" not in page["headers"].get("cache-control", "")


def test_hashed_url_changes_with_the_content(app, tmp_path):
    import os

    from portal.templating import asset_url

    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    app.static_folder = str(static)

    def deploy(content: str, mtime: int) -> None:
        (static / "js" / "x.js").write_text(content)
        os.utime(static / "js" / "x.js", (mtime, mtime))  # a new mtime, as a deploy would give

    deploy("one", 1)
    with app.test_request_context():
        first = asset_url("js/x.js")
        deploy("two!", 2)
        # A running worker keeps the URL it worked out: files change only with a deployment,
        # which starts new workers.
        assert asset_url("js/x.js") == first
    app.extensions["portal_asset_urls"].clear()  # a new worker
    with app.test_request_context():
        second = asset_url("js/x.js")
    assert first != second and first.endswith("/js/x.js") and second.endswith("/js/x.js")
    # In debug mode an edited file gets its new URL at once.
    app.debug = True
    with app.test_request_context():
        deploy("three", 3)
        third = asset_url("js/x.js")
    assert third not in (first, second)
