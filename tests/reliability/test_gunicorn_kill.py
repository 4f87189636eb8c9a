"""A gunicorn worker is killed (SIGKILL) every few seconds while 500 submissions arrive.

Every request that got a success response has exactly one record; a request whose response was
lost (its worker died) has at most one, and after the client sends it again (same key) every key
has exactly one record and a success response: nothing is lost, nothing is counted twice.

Two variants: a minimal transactional POST (one take-up row per key), and the forms slice's real
journey (start page, start, the question page, check your answers, submit, confirmation), where
the draft token is the submission's idempotency key.
"""

from __future__ import annotations

import http.client as http_client
import os
import random
import re
import secrets
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from tests.reliability.conftest import RECORD_KIND, Gunicorn, http, portal_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

SUBMISSIONS = 500
KILLER_POLL_SECONDS = 0.05
MIN_PROGRESS = 40
# Clients wait (at most this long) rather than run more than a few kills' worth of requests
# ahead of the killer: on a fast machine 500 submissions end in a second or two, before a
# timer-driven killer has struck often enough to mean anything.
PACE_TIMEOUT_SECONDS = 20


def _submit(url: str, key: str) -> str:
    try:
        status, _ = http("POST", url, data=urlencode({"key": key}).encode(), timeout=15)
    except (OSError, http_client.HTTPException):  # refused, reset, or cut off mid-response
        return "lost"
    if status in (200, 201):
        return "ok"
    return f"http {status}"


def _keep_pace(killed: list[int], progress: list[int], min_progress: int) -> None:
    """Hold a client back while it is more than three kills' worth of progress ahead of the
    killer, so kills are spread over the whole run however fast the machine is."""
    deadline = time.monotonic() + PACE_TIMEOUT_SECONDS
    while len(progress) >= (len(killed) + 3) * min_progress and time.monotonic() < deadline:
        time.sleep(0.01)


def _killer(
    server: Gunicorn,
    stop: threading.Event,
    killed: list[int],
    successes: list[int],
    min_progress: int = MIN_PROGRESS,
) -> None:
    """Kill a random worker each time the portal has answered at least MIN_PROGRESS requests
    since the last kill and every worker is up again (a respawned worker takes a while to load
    the app on a busy machine; without this the run could make no progress at all)."""
    last = 0
    while not stop.wait(KILLER_POLL_SECONDS):
        if len(successes) - last < min_progress:
            continue
        pids = server.worker_pids()
        if len(pids) < server.workers:
            continue
        try:
            os.kill(random.choice(pids), signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed.append(1)
        last = len(successes)


def test_killing_workers_loses_and_duplicates_no_submission(
    shared_database, gunicorn_servers, tmp_path
):
    server = Gunicorn(
        portal_env(tmp_path / "node", shared_database.url, ratelimit_enabled="false"),
        tmp_path / "gunicorn.log",
        workers=2,
    )
    gunicorn_servers.append(server.start())
    url = server.url + "/_reliability/record"
    keys = [f"k{i:04d}-{secrets.token_hex(3)}" for i in range(SUBMISSIONS)]

    stop, killed, successes = threading.Event(), [], []

    def submit(key: str) -> str:
        _keep_pace(killed, successes, MIN_PROGRESS)
        outcome = _submit(url, key)
        if outcome == "ok":
            successes.append(1)
        return outcome

    killer = threading.Thread(target=_killer, args=(server, stop, killed, successes), daemon=True)
    started = time.monotonic()
    killer.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = dict(zip(keys, pool.map(submit, keys), strict=True))
    finally:
        stop.set()
        killer.join()
    elapsed = time.monotonic() - started

    counts = dict(
        shared_database.rows(
            "SELECT object_ref, COUNT(*) FROM service_transactions WHERE kind = :kind "
            "GROUP BY object_ref",
            kind=RECORD_KIND,
        )
    )
    succeeded = [k for k, outcome in outcomes.items() if outcome == "ok"]
    failed = [k for k, outcome in outcomes.items() if outcome != "ok"]
    ambiguous = [k for k in failed if counts.get(k)]
    print(
        f"\n{SUBMISSIONS} submissions in {elapsed:.1f}s, {len(killed)} workers killed, "
        f"{len(failed)} responses lost ({len(ambiguous)} of them committed before the worker died)"
    )

    assert len(killed) >= 3, "the run was too short to kill workers during it"
    assert all(counts.get(k) == 1 for k in succeeded), "a success without exactly one record"
    assert max(counts.values(), default=0) <= 1, "a submission was recorded twice"
    assert set(counts) <= set(keys)
    assert not [o for o in outcomes.values() if o.startswith("http ")], Counter(outcomes.values())
    # A worker handles one request at a time, so each kill can interrupt at most one of them.
    assert len(ambiguous) <= len(killed)
    assert server.proc.poll() is None, "the master must survive its workers"

    # The resident presses "Submit" again after an error: the same key is sent once more.
    retried = {k: _submit(url, k) for k in failed}
    assert all(outcome == "ok" for outcome in retried.values()), retried
    total = shared_database.scalar(
        "SELECT COUNT(*) FROM service_transactions WHERE kind = :kind", kind=RECORD_KIND
    )
    distinct = shared_database.scalar(
        "SELECT COUNT(DISTINCT object_ref) FROM service_transactions WHERE kind = :kind",
        kind=RECORD_KIND,
    )
    assert total == distinct == SUBMISSIONS


FORM_SLUG = "report-a-streetlight"
FORM_DEFINITION = {
    "intro": "Tell us about a street light that is out.",
    "pages": [
        {
            "id": "where",
            "title": "",
            "guidance": "",
            "kind": "questions",
            "questions": [
                {
                    "id": "location",
                    "type": "text",
                    "label": "Where is the street light?",
                    "name": "where the street light is",
                }
            ],
        }
    ],
    "what_happens_next": "We repair street lights within 5 working days.",
}
STEP_ATTEMPTS = 30
# A form journey is 7 requests: a kill after every 105 answered requests is one about every 15
# journeys (every second or two), enough to land in every step, few enough that respawning
# workers on a 2-CPU machine keeps the run near a minute.
FORM_MIN_PROGRESS = 105
INPUT_VALUE = re.compile(r'<input type="hidden" name="(csrf_token|token)" value="([^"]+)"')
DONE = re.compile(r"/forms/[^/]+/done/([A-Z0-9-]+)$")


def _publish_form(database_url: str, instance: Path) -> None:
    """The form the residents fill in, published in the shared database."""
    from portal import create_app
    from portal.extensions import db
    from portal.online_forms import services
    from tests.conftest import _settings

    app = create_app(settings=_settings(instance, database_url))
    with app.app_context():
        form = services.new_form(
            slug=FORM_SLUG,
            title="Report a street light that is out",
            lgsl=0,
            lgil=0,
            office="Customer services",
            response_days=5,
            definition=FORM_DEFINITION,
        )
        services.publish(form)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


class Lost(Exception):
    """The response never came: the worker died (or was being replaced) mid-request."""


class Resident:
    """One browser filling in the form: start, the page, check your answers, submit.

    A step whose response is lost is tried again, as a resident reloads or presses the button
    again; the submit step's first outcome is kept apart, because that is the response the
    assertion is about."""

    def __init__(self, base: str, progress: list[int]) -> None:
        self.base = base
        self.http = requests.Session()
        self.progress = progress
        self.html = ""

    def once(self, method: str, path: str, data: dict | None = None) -> requests.Response:
        try:
            response = self.http.request(
                method, self.base + path, data=data, allow_redirects=False, timeout=15
            )
        except requests.RequestException as exc:
            raise Lost(str(exc)) from exc
        self.progress.append(1)
        if response.status_code >= 500:
            raise AssertionError(f"{method} {path} gave {response.status_code}")
        return response

    def step(self, method: str, path: str, data: dict | None = None) -> requests.Response:
        for attempt in range(STEP_ATTEMPTS):
            try:
                return self.once(method, path, data)
            except Lost:
                time.sleep(0.1 * (attempt + 1))
        raise AssertionError(f"{method} {path}: no response after {STEP_ATTEMPTS} attempts")

    def page(self, path: str) -> str:
        response = self.step("GET", path)
        assert response.status_code == 200, (path, response.status_code)
        self.html = response.text
        return self.html

    def field(self, name: str) -> str:
        found = dict((n, v) for n, v in INPUT_VALUE.findall(self.html))
        assert name in found, f"no {name} on the page"
        return found[name]

    def post_form(self, path: str, data: dict) -> str:
        """POST a page's form; returns where the redirect goes."""
        response = self.step("POST", path, {"csrf_token": self.field("csrf_token"), **data})
        assert response.status_code == 303, (path, response.status_code, response.text[:300])
        return response.headers["Location"]

    def fill_in(self) -> str:
        """Up to the check page; returns the draft token (the submission's idempotency key)."""
        self.page(f"/forms/{FORM_SLUG}")
        first = self.post_form(f"/forms/{FORM_SLUG}/start", {})
        self.page(first)
        check = self.post_form(first, {"location": "Outside 12 Mill Lane"})
        assert check.endswith("/check"), check
        self.page(check)
        return self.field("token")

    def submit(self, token: str) -> tuple[str, str | None]:
        """One press of "Submit": ("ok", reference), ("lost", None) or ("http N", None)."""
        data = {"csrf_token": self.field("csrf_token"), "token": token, "email": ""}
        try:
            response = self.once("POST", f"/forms/{FORM_SLUG}/submit", data)
        except Lost:
            return "lost", None
        match = DONE.search(response.headers.get("Location", ""))
        if response.status_code == 303 and match:
            return "ok", match.group(1)
        return f"http {response.status_code}", None

    def confirmation(self, reference: str) -> str:
        return self.page(f"/forms/{FORM_SLUG}/done/{reference}")


def test_killing_workers_during_form_submissions(shared_database, gunicorn_servers, tmp_path):
    """The same fault against the forms slice's real journey, 500 residents each filling in and
    submitting a form: every submit that got a success response has exactly one submission,
    and every submission belongs to a resident who was told it succeeded."""
    _publish_form(shared_database.url, tmp_path / "seed")
    server = Gunicorn(
        portal_env(tmp_path / "node", shared_database.url, ratelimit_enabled="false"),
        tmp_path / "gunicorn.log",
        workers=2,
    )
    gunicorn_servers.append(server.start())

    def records(token: str) -> int:
        return int(
            shared_database.scalar(
                "SELECT COUNT(*) FROM online_form_submissions WHERE idempotency_key = :key",
                key=token,
            )
        )

    stop, killed, progress = threading.Event(), [], []

    def journey(_: int) -> dict:
        _keep_pace(killed, progress, FORM_MIN_PROGRESS)
        resident = Resident(server.url, progress)
        token = resident.fill_in()
        first, reference = resident.submit(token)
        outcome = {"token": token, "first": first, "first_reference": reference}
        if first == "ok":
            outcome["records_after_success"] = records(token)
        else:
            # The resident saw an error page: was the submission in before the worker died?
            outcome["committed_before_retry"] = records(token)
            for attempt in range(STEP_ATTEMPTS):
                again, reference = resident.submit(token)
                if again == "ok":
                    break
                assert again == "lost", again
                time.sleep(0.1 * (attempt + 1))
        assert reference, f"{token}: never submitted"
        outcome["reference"] = reference
        # The resident reads their reference on the confirmation page.
        page = resident.confirmation(reference)
        outcome["confirmation_shows_reference"] = reference in page
        return outcome

    killer = threading.Thread(
        target=_killer, args=(server, stop, killed, progress, FORM_MIN_PROGRESS), daemon=True
    )
    started = time.monotonic()
    killer.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(journey, range(SUBMISSIONS)))
    finally:
        stop.set()
        killer.join()
    elapsed = time.monotonic() - started

    rows = shared_database.rows(
        "SELECT s.idempotency_key, s.reference FROM online_form_submissions s "
        "JOIN online_forms f ON f.id = s.form_id WHERE f.slug = :slug",
        slug=FORM_SLUG,
    )
    by_key = Counter(key for key, _ in rows)
    reference_of = dict(rows)
    first_ok = [o for o in outcomes if o["first"] == "ok"]
    lost = [o for o in outcomes if o["first"] != "ok"]
    ambiguous = [o for o in lost if o["committed_before_retry"]]
    print(
        f"\n{SUBMISSIONS} form journeys in {elapsed:.1f}s, {len(killed)} workers killed, "
        f"{len(lost)} submit responses lost ({len(ambiguous)} committed before the worker died)"
    )

    assert len(killed) >= 3, "the run was too short to kill workers during it"
    assert not [o for o in outcomes if o["first"].startswith("http ")], Counter(
        o["first"] for o in outcomes
    )
    # A success response: exactly one submission, the one the response named.
    assert all(o["records_after_success"] == 1 for o in first_ok)
    assert all(reference_of.get(o["token"]) == o["first_reference"] for o in first_ok)
    # A lost response: at most one submission, and pressing Submit again makes no second one.
    assert all(o["committed_before_retry"] <= 1 for o in lost)
    assert len(ambiguous) <= len(killed)
    # Every journey ends with exactly one submission and its reference on the confirmation page;
    # no submission exists that no resident was told about.
    tokens = [o["token"] for o in outcomes]
    assert len(set(tokens)) == SUBMISSIONS
    assert all(by_key[t] == 1 for t in tokens), "a journey without exactly one submission"
    assert set(by_key) == set(tokens), "a submission no resident got a success response for"
    assert all(reference_of[o["token"]] == o["reference"] for o in outcomes)
    assert all(o["confirmation_shows_reference"] for o in outcomes)
    assert server.proc.poll() is None, "the master must survive its workers"
