"""Page checks applied to every HTML page the tests fetch."""

from __future__ import annotations

import re
from collections import Counter

import html5lib
from bs4 import BeautifulSoup, NavigableString
from flask import url_for
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

NONCE_PATTERN = re.compile(r"'nonce-([A-Za-z0-9_\-]+)'")

# What a person must never read: each pattern with the reason shown when it is found.
TEXT_DEFECTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?=[\s>/])"), "markup"),
    (re.compile(r"&(?:lt|gt|amp|quot|#\d+);"), "an escaped character reference"),
    (re.compile(r"\bclass=[\"']"), "an HTML attribute"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2})?"), "a raw date or timestamp"),
    (re.compile(r"\bT\d{2}:\d{2}(?::\d{2})?"), "a raw timestamp"),
    (re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?[+-]\d{2}:\d{2}"), "a raw timestamp"),
    (re.compile(r"\+00:00|\b\d{2}:\d{2}:\d{2}\.\d+"), "a raw timestamp"),
    (re.compile(r"\bUTC\b"), "the word UTC (times read in UK time)"),
    # A None printed for a missing value stands alone on its line or after a label ("None this
    # week." and a "None" option are words; a lone "None" option is left out of the text).
    (re.compile(r"^(?:[^\n]*:\s*)?None\s*$|\bNone\s*[,;)\]}]", re.MULTILINE), "a Python None"),
    (re.compile(r"[{\[]\s*['\"]"), "a Python dict or list"),
    (re.compile(r"\b(?:True|False)\b"), "a Python boolean"),
]
# An ISO example in a hint or message ("for example, 2026-03-27") belongs to a field still typed as
# YYYY-MM-DD (the planning register and planning staff dates, the A–Z site alert times): those
# are to become GOV.UK date inputs. The example is let through; any other ISO date is not.
_ISO_EXAMPLE = re.compile(
    r"\b(?:for example|like),?\s+\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?\b", re.IGNORECASE
)
LG_CODE = re.compile(r"\bLG[SI]L\s*(?:code\s*)?\d+", re.IGNORECASE)
# Words that do not name a service: beside an LGSL/LGIL code there must be a real name.
_NOT_A_NAME = {
    "lgsl",
    "lgil",
    "code",
    "codes",
    "service",
    "services",
    "interaction",
    "and",
    "published",
    "draft",
}
# The block an LGSL/LGIL code is read in: its list item, table row or summary row if it has one.
_ROWS = ("li", "tr")
_BLOCKS = (
    "p",
    "dd",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "caption",
    "label",
    "legend",
    "option",
    "title",
    "span",
    "summary",
    "pre",
    "blockquote",
)


def text_problems(text: str) -> list[str]:
    """What a person should not read in `text`: markup, raw timestamps, UTC, Python reprs."""
    problems = []
    for pattern, reason in TEXT_DEFECTS:
        for match in pattern.finditer(text):
            start = max(0, match.start() - 40)
            context = " ".join(text[start : match.end() + 40].split())
            problems.append(f"{reason}: {match.group(0)!r} in ...{context}...")
    return problems


def _names_a_service(block: str) -> bool:
    """A block mentioning an LGSL/LGIL code also names the service: a word beyond the codes."""
    words = re.findall(r"[A-Za-z]{3,}", LG_CODE.sub(" ", block))
    return any(w.lower() not in _NOT_A_NAME for w in words)


def _lg_block(string: NavigableString) -> str:
    """The text read with a code: its row (list item, table row, summary row), else its block."""
    block = (
        string.find_parent(_ROWS)
        or string.find_parent(class_="govuk-summary-list__row")
        or string.find_parent(_BLOCKS)
    )
    if block is None:
        return str(string)
    if block.name == "span" or any(c.startswith("govuk-caption") for c in block.get("class", [])):
        block = block.parent or block  # a caption is read with the heading it sits in
    return block.get_text(" ")


def lg_code_problems(blocks: list[str]) -> list[str]:
    """Each text block quoting an LGSL/LGIL number must name the service beside it."""
    return [
        f"an LGSL/LGIL code without its name: {' '.join(block.split())[:160]!r}"
        for block in blocks
        if LG_CODE.search(block) and not _names_a_service(block)
    ]


def visible_text_problems(soup: BeautifulSoup) -> list[str]:
    """Text-a-person-reads problems of a parsed page (attributes and scripts are not read)."""
    strings = [
        string
        for string in soup.find_all(string=True)
        # Only plain text: bs4 gives scripts, styles, templates and comments their own types.
        if type(string) is NavigableString
    ]
    read = [
        _ISO_EXAMPLE.sub("(an example)", s.strip())
        for s in strings
        if not (s.parent.name == "option" and s.strip() == "None")
    ]
    problems = text_problems("\n".join(read))
    blocks = [_lg_block(string) for string in strings if LG_CODE.search(string)]
    return problems + lg_code_problems(blocks)


def check_visible_text(soup: BeautifulSoup) -> None:
    """Assert a page's visible text reads as words for people."""
    problems = visible_text_problems(soup)
    assert not problems, "the page shows people:\n" + "\n".join(problems)


def check_email_text(text: str) -> None:
    """Assert an email's text reads as words for people (the same rules as a page's text)."""
    problems = text_problems(text) + lg_code_problems(re.split(r"\n\s*\n", text))
    assert not problems, "the email shows people:\n" + "\n".join(problems)


def check_html(response: TestResponse, read_text: bool = True) -> BeautifulSoup:
    """Assert the quality bars every page meets; returns the parsed page.

    `read_text=False` leaves out the check of the text people read, for a page that shows, on
    purpose, text someone typed that looks like markup (the escaping tests).
    """
    body = response.get_data(as_text=True)
    html5lib.HTMLParser(strict=True).parse(body)  # raises on any parse error
    soup = BeautifulSoup(body, "html.parser")
    assert len(soup.find_all("h1")) == 1, "a page has exactly one h1"
    assert soup.title and soup.title.get_text(strip=True), "a page has a title"
    for form in soup.find_all("form"):
        assert form.get("action") is not None, f"form without action: {str(form)[:120]}"
        assert form.get("method"), f"form without method: {str(form)[:120]}"
    ids = Counter(tag["id"] for tag in soup.find_all(id=True))
    duplicates = [i for i, n in ids.items() if n > 1]
    assert not duplicates, f"duplicate ids: {duplicates}"
    csp = response.headers.get("Content-Security-Policy", "")
    match = NONCE_PATTERN.search(csp)
    assert match, "the CSP carries a nonce"
    for script in soup.find_all("script"):
        assert script.get("nonce") == match.group(1), (
            f"script without the CSP nonce: {str(script)[:120]}"
        )
    for style in soup.find_all("style"):
        assert style.get("nonce") == match.group(1), "style without the CSP nonce"
    assert not soup.find_all(style=True), "inline style attributes are blocked by the CSP"
    if read_text:
        check_visible_text(soup)
    return soup


def get_page(
    client: FlaskClient, endpoint: str, status: int = 200, **values: object
) -> BeautifulSoup:
    """Fetch a page by endpoint name and check it."""
    with client.application.test_request_context():
        url = url_for(endpoint, **values)
    response = client.get(url)
    assert response.status_code == status, f"{url} answered {response.status_code}"
    return check_html(response)


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token from the first form on a page (the session keeps it for later posts)."""
    response = client.get(url)
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    field = soup.find("input", attrs={"name": "csrf_token"})
    assert field is not None, f"no CSRF token on {url}"
    return str(field["value"])


def error_summary(soup: BeautifulSoup) -> list[str]:
    """The messages in a page's GOV.UK error summary."""
    box = soup.select_one(".govuk-error-summary")
    return [li.get_text(" ", strip=True) for li in box.select("li")] if box else []
