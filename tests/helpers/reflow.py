"""Reflow at 320 CSS pixels (WCAG 1.4.10): a bounded browser crawl that finds sideways scroll."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

NARROW = {"width": 320, "height": 640}
# Never followed: leaving the session, files rather than pages, and machine endpoints.
SKIP_PREFIXES = ("/sign-out", "/assets/", "/static/", "/api/", "/my/data", "/health")
SKIP_SUFFIXES = (".csv", ".json", ".xml", ".ics", ".geojson", ".pdf", ".txt")
PER_PATH = 3  # different query strings of one path (filters, pages) worth loading

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
LINKS = """() => Array.from(document.querySelectorAll('a[href]'))
  .filter(a => !a.hasAttribute('download'))
  .map(a => a.href)"""


@dataclass
class CrawlResult:
    visited: list[str] = field(default_factory=list)
    offenders: list[str] = field(default_factory=list)


def _followable(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return False
    return not parts.path.startswith(SKIP_PREFIXES) and not parts.path.endswith(SKIP_SUFFIXES)


def crawl_for_sideways_scroll(  # noqa: ANN001
    page, origin: str, start: str, limit: int = 150, within: tuple[str, ...] = ("/",)
) -> CrawlResult:
    """Follow internal links breadth-first from `start` (GET only) and measure every page.

    Only paths starting with one of `within` are followed. A page fails when
    `document.documentElement.scrollWidth` exceeds the viewport's width.
    """
    result = CrawlResult()
    queue: deque[str] = deque([urljoin(origin, start)])
    seen: set[str] = set(queue)
    per_path: Counter[str] = Counter()
    while queue and len(result.visited) < limit:
        url = queue.popleft()
        response = page.goto(url, wait_until="load")
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        result.visited.append(url)
        measured = page.evaluate(MEASURE)
        if measured["scroll"] > measured["inner"]:
            widest = measured["widest"]
            culprit = f" (widest: {widest['what']} to {widest['right']:.0f}px)" if widest else ""
            result.offenders.append(
                f"{urlsplit(url).path}?{urlsplit(url).query}: {measured['scroll']}px wide{culprit}"
            )
        for link in page.evaluate(LINKS):
            link = urldefrag(link).url
            path = urlsplit(link).path
            if (
                link in seen
                or not _followable(link, origin)
                or not path.startswith(within)
                or per_path[path] >= PER_PATH
            ):
                continue
            seen.add(link)
            per_path[path] += 1
            queue.append(link)
    return result
