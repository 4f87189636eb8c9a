"""Reflow at 320 CSS pixels (WCAG 1.4.10): no page scrolls sideways.

The link walk (tests/helpers/walk.py) finds the pages, for every role; `sideways_scroll` loads
each of them in a 320 px browser viewport, signed in as the same person, and measures it. The
suite crawls once: the walk's pages are the reflow check's pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask.testing import FlaskClient

NARROW = {"width": 320, "height": 640}
# Never loaded: leaving the session, files rather than pages, and machine endpoints.
SKIP_PREFIXES = ("/sign-out", "/assets/", "/static/", "/api/", "/my/data", "/health")

# What a page scrolls sideways by, and the widest element sticking out (to say what to fix).
MEASURE = """() => {
  const root = document.documentElement;
  let widest = null;
  for (const el of document.body.querySelectorAll('*')) {
    const right = el.getBoundingClientRect().right;
    if (right > window.innerWidth + 1 && (!widest || right > widest.right)) {
      let scroller = el.parentElement, clipped = false;
      while (scroller && scroller !== document.body) {
        const overflow = getComputedStyle(scroller).overflowX;
        if (overflow !== 'visible') { clipped = true; break; }
        scroller = scroller.parentElement;
      }
      if (!clipped) {
        widest = {right: right, what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
          (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')};
      }
    }
  }
  return {scroll: root.scrollWidth, inner: window.innerWidth, widest: widest};
}"""


def keep_to(context, origin: str) -> None:  # noqa: ANN001
    """Map tiles and anything else from another origin are not fetched (no network here)."""
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort(),
    )


def cookies_of(client: FlaskClient, origin: str) -> list[dict]:
    """The cookies a Flask test client holds, for a browser on `origin` to be the same person."""
    jar = getattr(client, "_cookies", None) or {}
    return [{"name": c.key, "value": c.value, "url": origin} for c in jar.values()]


@dataclass
class ReflowResult:
    measured: list[str] = field(default_factory=list)
    offenders: list[str] = field(default_factory=list)


def sideways_scroll(page, origin: str, paths: list[str]) -> ReflowResult:  # noqa: ANN001
    """Load each of `paths` (GET, in the page's viewport) and measure its sideways scroll.

    A page fails when `document.documentElement.scrollWidth` exceeds the viewport's width; the
    failure names the widest element sticking out that no scrolling box contains.
    """
    result = ReflowResult()
    for path in paths:
        if urlsplit(path).path.startswith(SKIP_PREFIXES):
            continue
        response = page.goto(origin + path, wait_until="load")
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        result.measured.append(path)
        measured = page.evaluate(MEASURE)
        if measured["scroll"] > measured["inner"]:
            widest = measured["widest"]
            culprit = f" (widest: {widest['what']} to {widest['right']:.0f}px)" if widest else ""
            result.offenders.append(f"{path}: {measured['scroll']}px wide{culprit}")
    return result
