"""A link walk that behaves like a person: follow every link and GET form a page shows.

`walk(client, starts)` fetches the start pages and, breadth-first, every internal `<a href>` and
every GET form on them (submitted with the page's own values), never posting and never following
sign-out or end links. It records every link that answers 4xx/5xx (with the page it was on and
its text), every page failing the page checks (`check_html`, which includes the text a person
reads), and keeps each HTML page so the Nu HTML Checker can read them all, and the reflow check
(tests/helpers/reflow.py) can load them all at 320 px, without a second crawl.

The Nu HTML Checker runs as one long-lived process per test process (`vnu_service`): a JVM started
once and warmed up, instead of a new JVM for every role's batch.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import http.client
import json
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from flask.testing import FlaskClient

from tests.helpers.pages import check_html

MAX_PAGES = 400
# Pages of one shape (the same path with other numbers or references) visited at most this often:
# the walk spends its budget on breadth, not on the 500th planning application.
MAX_PER_SHAPE = 6
DEMO_POSTCODE = "CK1 1AB"
# Links a person leaves by (or that end what they are doing), never followed.
LEAVING = re.compile(r"sign-?out|log-?out|/end\b|start-again|hand-back", re.IGNORECASE)
NOT_PAGES = re.compile(r"^/(assets|static)/")
VNU_JAR = Path(__file__).resolve().parents[2] / ".cache/vnu/node_modules/vnu-jar/build/dist/vnu.jar"


@dataclass
class Visit:
    url: str
    source: str  # the page the link or form was on ("start" for a start page)
    text: str  # the link's text or the form's button


@dataclass
class WalkResult:
    pages: dict[str, str] = field(default_factory=dict)  # url -> HTML of each page reached
    statuses: dict[str, int] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)
    page_problems: list[str] = field(default_factory=list)
    skipped_shapes: Counter[str] = field(default_factory=Counter)

    def failures(self) -> list[str]:
        return self.broken + self.page_problems


def _shape(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"/[^/]*\d[^/]*", "/#", parts.path)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{path}?{'&'.join(keys)}"


def _normalise(base: str, href: str) -> str | None:
    """The internal path and query a link goes to, or None for another site, mailto:, etc."""
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
        return None
    parts = urlsplit(urljoin(f"http://localhost{base}", href))
    if parts.scheme not in ("http", "https") or parts.netloc != "localhost":
        return None
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return parts.path + (f"?{query}" if query else "")


def _form_values(form: Tag) -> list[tuple[str, str]]:
    """What submitting a GET form as shown sends: defaults, chosen options, a demo postcode."""
    values: list[tuple[str, str]] = []
    radios_seen: set[str] = set()
    for control in form.find_all(["input", "select", "textarea"]):
        name = control.get("name")
        if not name or control.has_attr("disabled"):
            continue
        if control.name == "select":
            options = control.find_all("option")
            chosen = [o for o in options if o.has_attr("selected")] or options[:1]
            values += [(name, o.get("value", o.get_text(strip=True))) for o in chosen]
            continue
        if control.name == "textarea":
            values.append((name, control.get_text()))
            continue
        kind = (control.get("type") or "text").lower()
        if kind in ("submit", "button", "image", "reset", "file"):
            continue
        if kind == "radio":
            if control.has_attr("checked") and name not in radios_seen:
                radios_seen.add(name)
                values.append((name, control.get("value", "on")))
            continue
        if kind == "checkbox":
            if control.has_attr("checked"):
                values.append((name, control.get("value", "on")))
            continue
        value = control.get("value", "")
        if not value and "postcode" in f"{name} {control.get('autocomplete', '')}".lower():
            value = DEMO_POSTCODE
        values.append((name, value))
    for control in form.find_all("input", attrs={"type": "radio"}):  # none chosen: the first
        name = control.get("name")
        if name and name not in radios_seen:
            radios_seen.add(name)
            values.append((name, control.get("value", "on")))
    button = form.find(["button", "input"], attrs={"type": "submit"}) or form.find("button")
    if button is not None and button.get("name"):
        values.append((button["name"], button.get("value", "")))
    return values


def _links(url: str, soup: BeautifulSoup) -> list[Visit]:
    found: list[Visit] = []
    for anchor in soup.find_all("a", href=True):
        target = _normalise(url, anchor["href"])
        if target:
            found.append(Visit(target, url, anchor.get_text(" ", strip=True) or anchor["href"]))
    for form in soup.find_all("form"):
        if (form.get("method") or "get").lower() != "get":
            continue
        action = _normalise(url, form.get("action") or url)
        if not action:
            continue
        query = urlencode(_form_values(form))
        joiner = "&" if "?" in action else "?"
        button = form.find(["button", "input"], attrs={"type": "submit"}) or form.find("button")
        label = button.get_text(" ", strip=True) or button.get("value", "") if button else "form"
        found.append(
            Visit(
                _normalise(url, f"{action}{joiner}{query}") or action,
                url,
                f"form button {label!r}",
            )
        )
    return found


def walk(
    client: FlaskClient,
    starts: list[str],
    max_pages: int = MAX_PAGES,
    max_children: int | None = None,
    check: bool = True,
) -> WalkResult:
    """Breadth-first over internal links and GET forms from `starts`, never posting.

    `max_children` bounds how many pages directly under one path are visited (the A–Z's service
    pages under /services): a role whose public pages another walk reads in full samples them.
    """
    result = WalkResult()
    queue: deque[Visit] = deque(Visit(s, "start", "start page") for s in starts)
    seen: set[str] = set(starts)
    shapes: Counter[str] = Counter()
    children: dict[str, set[str]] = {}
    while queue and len(result.statuses) < max_pages:
        visit = queue.popleft()
        response = client.get(visit.url)
        status = response.status_code
        result.statuses[visit.url] = status
        where = f"{visit.url} (from {visit.source}, {visit.text!r})"
        if status in (301, 302, 303, 307, 308):
            target = _normalise(visit.url, response.headers.get("Location", ""))
            if target and target not in seen and not LEAVING.search(target):
                seen.add(target)
                queue.append(Visit(target, visit.source, f"{visit.text} -> redirect"))
            continue
        is_form = visit.text.startswith("form button")
        if status >= 400:
            if is_form and status == 400 and b"govuk-error-summary" in response.data:
                pass  # a GET form sent with its empty defaults answers with its error summary
            else:
                result.broken.append(f"{status} {where}")
                continue
        if not response.content_type.startswith("text/html"):
            continue
        body = response.get_data(as_text=True)
        result.pages[visit.url] = body
        if check:
            try:
                soup = check_html(response)
            except AssertionError as error:
                result.page_problems.append(f"{where}: {error}")
                soup = BeautifulSoup(body, "html.parser")
        else:
            soup = BeautifulSoup(body, "html.parser")
        for link in _links(visit.url, soup):
            if link.url in seen or LEAVING.search(link.url) or NOT_PAGES.search(link.url):
                continue
            seen.add(link.url)
            shape = _shape(link.url)
            path = urlsplit(link.url).path
            siblings = children.setdefault(path.rsplit("/", 1)[0], set())
            if shapes[shape] >= MAX_PER_SHAPE or (
                max_children is not None and path not in siblings and len(siblings) >= max_children
            ):
                result.skipped_shapes[shape] += 1
                continue
            siblings.add(path)
            shapes[shape] += 1
            queue.append(link)
    return result


def vnu_available() -> str | None:
    """Why the Nu HTML Checker cannot run here, or None when it can."""
    if shutil.which("java") is None:
        return "Java is not installed (the Nu HTML Checker needs Java 11 or later)"
    if not VNU_JAR.exists():
        return f"the Nu HTML Checker is not installed at {VNU_JAR}: run `make vnu`"
    return None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """The checker ends when the test process that started it ends, however that ends."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class VnuService:
    """The Nu HTML Checker as a local web service: one JVM per test process, started once.

    `start()` returns at once (the JVM starts while other work goes on); `check()` waits until it
    answers. A JVM per batch spent seconds starting and warming up for every role.
    """

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.failed = False

    def start(self) -> None:
        if self.process is not None or self.failed or vnu_available() is not None:
            return
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                "java",
                "-Xss4m",
                "-Xmx768m",
                "-Dnu.validator.servlet.bind-address=127.0.0.1",
                "-cp",
                str(VNU_JAR),
                "nu.validator.servlet.Main",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        atexit.register(self.stop)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def _post(self, body: str) -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(
                "POST",
                "/?out=json",
                body=body.encode("utf-8"),
                headers={
                    "Content-Type": "text/html; charset=utf-8",
                    "User-Agent": "portal-test-suite",  # the checker refuses requests without one
                },
            )
            response = connection.getresponse()
            answer = response.read().decode("utf-8", "replace")
            if response.status != 200:
                raise RuntimeError(
                    f"the Nu HTML Checker answered {response.status}: {answer[:300]}"
                )
            return json.loads(answer)
        finally:
            connection.close()

    def ready(self, timeout: float = 240) -> bool:
        """Wait until the service answers; False if it cannot start here."""
        self.start()
        if self.process is None:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                self._post("<!DOCTYPE html><html lang=en><title>ready</title></html>")
                return True
            except (OSError, http.client.HTTPException):
                time.sleep(0.25)  # still starting
        self.failed = True
        self.stop()
        return False

    def check(self, body: str) -> list[dict]:
        """The checker's errors for one document (what `--errors-only` reports)."""
        report = self._post(body)
        return [
            message
            for message in report.get("messages", [])
            if message.get("type") in ("error", "non-document-error")
        ]


vnu_service = VnuService()


def _message_line(url: str, message: dict) -> str:
    extract = " ".join(message.get("extract", "").split())[:120]
    return f"{url} line {message.get('lastLine')}: {message.get('message')} [{extract}]"


def vnu_errors(pages: dict[str, str]) -> list[str]:
    """Every Nu HTML Checker error in `pages` (url -> HTML).

    Each page goes to this process's long-lived checker; where it cannot start, the pages are
    checked in one batch by a JVM of their own.
    """
    if vnu_service.ready():
        errors = []
        for url, body in sorted(pages.items()):
            errors += [_message_line(url, message) for message in vnu_service.check(body)]
        return errors
    return _vnu_errors_in_one_batch(pages)


def _vnu_errors_in_one_batch(pages: dict[str, str]) -> list[str]:
    """Every Nu HTML Checker error in `pages` (url -> HTML), checked by one JVM in one batch."""
    with tempfile.TemporaryDirectory(prefix="vnu-") as folder:
        names: dict[str, str] = {}
        for number, (url, body) in enumerate(sorted(pages.items())):
            name = f"page-{number:04d}.html"
            (Path(folder) / name).write_text(body, encoding="utf-8")
            names[name] = url
        run = subprocess.run(
            ["java", "-Xss4m", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", folder],
            capture_output=True,
            text=True,
            timeout=300,
        )
        report = json.loads(run.stderr or run.stdout or '{"messages": []}')
    errors = []
    for message in report.get("messages", []):
        url = names.get(Path(message.get("url", "")).name, message.get("url", "?"))
        errors.append(_message_line(url, message))
    return errors
