"""The load test's multi-step journeys, driven like a browser by a bounded Python client.

A journey cannot be one wrk request: it reads a CSRF token from a page, posts a form, follows the
redirect, reads the next form, and so on. `drive(...)` runs one journey in a loop on N client
threads (each with its own `requests.Session`, i.e. its own cookies) for a fixed number of
seconds, timing every request and every whole journey. Every request is recorded: its step name,
method, latency and status, so a part reports the requests per second and latency of its measured
POST step, of all its POSTs, and of the whole journey, plus every 5xx.

Nothing here bypasses the portal: residents sign in through the real sign-in form (once per client,
then the session is reused), every POST carries the CSRF token from the page it came from, files
are uploaded as multipart form data, webhook events are signed with the `stripe` library's own
scheme (`WebhookSignature.generate_signature_header`) against the webhook secret the bench app
was started with, and the planning alert's confirmation link is read from the email the portal
queued (the `outbox_emails` row, as a resident reads their inbox).
"""

from __future__ import annotations

import io
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from urllib.parse import urljoin, urlsplit

import requests

INPUT = re.compile(r"<input\b[^>]*>", re.I | re.S)
ATTR = re.compile(r'([a-zA-Z_:-]+)="([^"]*)"')
CONFIRM_LINK = re.compile(r"/planning/confirm/([A-Za-z0-9_\-]+)")
SUCCESS_CARD = "4242 4242 4242 4242"


class JourneyError(Exception):
    """The portal answered something a resident would not expect at this step."""


def input_values(html: str, name: str) -> list[str]:
    """The values of every <input name=...> in `html`, in page order."""
    values = []
    for tag in INPUT.findall(html):
        attrs = dict(ATTR.findall(tag))
        if attrs.get("name") == name and "value" in attrs:
            values.append(unescape(attrs["value"]))
    return values


def csrf_token(html: str) -> str:
    found = input_values(html, "csrf_token")
    if found:
        return found[0]
    match = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    if match:
        return match.group(1)
    raise JourneyError("no CSRF token on the page")


def png_bytes(width: int = 320, height: int = 240) -> bytes:
    """A small real PNG photo (the portal re-encodes images, so it must be a real one)."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (90, 140, 60))
    for x in range(0, width, 16):
        for y in range(0, height, 16):
            image.putpixel((x, y), (200, 60, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass
class Sample:
    step: str
    method: str
    ms: float
    status: int


@dataclass
class Recorder:
    """Every request and journey of one part (thread-safe appends)."""

    samples: list[Sample] = field(default_factory=list)
    journeys: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


class Client:
    """One browser: a cookie jar, the CSRF token of the last page, every request timed."""

    def __init__(self, base: str, recorder: Recorder | None = None, timeout: float = 30) -> None:
        self.base = base
        self.http = requests.Session()
        self.recorder = recorder
        self.timeout = timeout
        self.html = ""
        self.url = ""

    def request(
        self,
        method: str,
        path: str,
        step: str,
        expect: tuple[int, ...] = (200,),
        follow: bool = True,
        **kwargs,
    ) -> requests.Response:
        """One request (then, with `follow`, its redirects as GETs, like a browser)."""
        url = urljoin(self.base, path)
        response = self._one(method, url, step, **kwargs)
        hops = 0
        while follow and response.is_redirect and hops < 10:
            url = urljoin(url, response.headers["Location"])
            response = self._one("GET", url, step + " → redirect")
            hops += 1
        if response.status_code not in expect:
            raise JourneyError(f"{step}: {method} {urlsplit(url).path} gave {response.status_code}")
        self.url = url
        if "text/html" in response.headers.get("Content-Type", ""):
            self.html = response.text
        return response

    def _one(self, method: str, url: str, step: str, **kwargs) -> requests.Response:
        started = time.perf_counter()
        response = self.http.request(
            method, url, allow_redirects=False, timeout=self.timeout, **kwargs
        )
        elapsed = (time.perf_counter() - started) * 1000
        if self.recorder is not None:
            self.recorder.add(Sample(step, method, elapsed, response.status_code))
        return response

    def get(self, path: str, step: str, **kwargs) -> requests.Response:
        return self.request("GET", path, step, **kwargs)

    def post(self, path: str, step: str, data: dict | None = None, **kwargs) -> requests.Response:
        """POST a form with the CSRF token of the page the client is on."""
        body = {"csrf_token": csrf_token(self.html), **(data or {})}
        return self.request("POST", path, step, data=body, **kwargs)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


@dataclass
class MissedCollection:
    """A collection that can be reported missed today: the form refuses any other."""

    uprn: str
    postcode: str
    bin: str  # the form's option value: the collection type's name in lower case
    day: date


@dataclass
class Context:
    """What the journeys need from the demo council and the bench app."""

    uprn: str
    postcode: str
    council_tax_reference: str
    residents: list[tuple[str, str]]  # (email, password) of tenants with a linked tenancy
    webhook_secret: str
    database_url: str
    wards: list[str] = field(default_factory=list)
    photo: bytes = b""
    outbox: Callable[[str], str | None] | None = None  # the latest email body sent to an address
    missed: MissedCollection | None = None


# ---------------------------------------------------------------------------------------------
# Online forms: start → pages → check → submit


def _answer_pages(client: Client, slug: str, answers: dict[str, dict], files: dict | None) -> None:
    """From the first page, post each page's answers until the check page."""
    for _ in range(20):
        path = client.path
        if path.endswith("/check"):
            return
        match = re.search(r"/page/([^/]+)$", path)
        if not match or match.group(1) not in answers:
            raise JourneyError(f"unexpected page {path}")
        page_id = match.group(1)
        extra = {}
        if files and page_id in files:
            extra["files"] = files[page_id]
        step = "page POST with a file" if "files" in extra else "page POST"
        client.post(path, step, answers[page_id], **extra)
    raise JourneyError(f"{slug}: too many pages")


def submit_form(
    client: Client, slug: str, answers: dict[str, dict], files: dict | None = None
) -> tuple[str, str]:
    """A whole form journey; returns (draft token, submission reference)."""
    client.get(f"/forms/{slug}", "start page")
    client.post(f"/forms/{slug}/start", "start POST")
    _answer_pages(client, slug, answers, files)
    token = input_values(client.html, "token")
    if not token:
        raise JourneyError("no submission token on the check page")
    client.post(f"/forms/{slug}/submit", "submit POST", {"token": token[0], "email": ""})
    match = re.search(r"/done/([A-Z0-9-]+)$", client.path)
    if not match:
        raise JourneyError(f"submit ended on {client.path}, not the confirmation page")
    return token[0], match.group(1)


def form_without_file(client: Client, ctx: Context) -> None:
    """Report a missed bin: address by postcode lookup, choices, a date, contact details."""
    missed = ctx.missed
    if missed is None:
        raise JourneyError("no demo collection can be reported missed today")
    day = missed.day
    submit_form(
        client,
        "report-missed-bin",
        {
            "where": {"address_postcode": missed.postcode, "address": missed.uprn},
            "bin": {"bin": missed.bin},
            "out": {"out_by_7": "yes"},
            "when": {
                "missed_on-day": str(day.day),
                "missed_on-month": str(day.month),
                "missed_on-year": str(day.year),
            },
            "more": {"details": "The recycling bin was left at the kerb."},
            "contact": {"name": "Load Test", "phone": "01632 960 001"},
        },
    )


def form_with_file(client: Client, ctx: Context) -> None:
    """Report fly-tipping with a photo (a PNG the portal checks and re-encodes)."""
    submit_form(
        client,
        "report-fly-tipping",
        {
            "where": {"location_postcode": ctx.postcode, "location": ctx.uprn},
            "what": {"waste": ["household-rubbish", "furniture"]},
            "size": {"size": "a-car-boot-load"},
            "photo": {},
            "more": {"details": "Bags and an old chair by the lane."},
        },
        files={"photo": {"photos": ("fly-tipping.png", ctx.photo, "image/png")}},
    )


# ---------------------------------------------------------------------------------------------
# Payments: create → check and pay → the sandbox card page → pay → return


def _create_and_start(client: Client, ctx: Context) -> tuple[str, str]:
    """Pay a council tax bill by reference up to the gateway; returns (reference, session id)."""
    client.get("/pay/council_tax", "bill page")
    client.post(
        "/pay/council_tax",
        "bill POST",
        {
            "reference": ctx.council_tax_reference,
            "amount": "1.00",
            "email": f"payer-{secrets.token_hex(4)}@example.com",
        },
    )
    match = re.search(r"/payments/([^/]+)/pay$", client.path)
    if not match:
        raise JourneyError(f"the bill form ended on {client.path}")
    reference = match.group(1)
    client.post(f"/payments/{reference}/pay", "check and pay POST")
    match = re.search(r"/payments/sandbox/([^/]+)$", client.path)
    if not match:
        raise JourneyError(f"check and pay ended on {client.path}, not the sandbox card page")
    return reference, match.group(1)


def sandbox_payment(client: Client, ctx: Context) -> None:
    reference, session_id = _create_and_start(client, ctx)
    client.post(
        f"/payments/sandbox/{session_id}",
        "card POST",
        {"card_number": SUCCESS_CARD, "expiry": "12/39", "name": "Load Test", "cvc": "123"},
    )
    if client.path != f"/payments/{reference}" or "Payment received" not in client.html:
        raise JourneyError(f"the payment ended on {client.path}, not a paid confirmation")


def stripe_event(reference: str, session_id: str, amount_pence: int) -> dict:
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "paid",
                "amount_total": amount_pence,
                "currency": "gbp",
                "client_reference_id": reference,
                "metadata": {"reference": reference},
                "payment_intent": f"pi_{secrets.token_hex(12)}",
            }
        },
    }


def payment_webhook(client: Client, ctx: Context) -> None:
    """A payment is started, then the gateway's signed "completed" event settles it."""
    import stripe

    reference, session_id = _create_and_start(client, ctx)
    payload = json.dumps(stripe_event(reference, session_id, 100))
    header = stripe.WebhookSignature.generate_signature_header(payload, ctx.webhook_secret)
    response = client.request(
        "POST",
        "/payments/webhooks/stripe",
        "webhook POST",
        data=payload.encode(),
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    outcome = response.json().get("outcome", "")
    if outcome != "moved to success":
        raise JourneyError(f"the webhook's outcome was {outcome!r}")


# ---------------------------------------------------------------------------------------------
# Repairs: a signed-in tenant picks an appointment slot


def sign_in(client: Client, email: str, password: str) -> None:
    """Through the real sign-in form."""
    client.get("/sign-in", "sign-in page")
    client.post("/sign-in", "sign-in POST", {"email": email, "password": password})
    if client.path != "/my":
        raise JourneyError(f"sign-in as {email} ended on {client.path}")


def report_repair(client: Client) -> str:
    """Report a repair through triage and the repairs tree; returns its reference."""
    client.get("/repairs/report", "triage page")
    homes = input_values(client.html, "property")
    if not homes:
        raise JourneyError("the tenant has no home to report a repair for")
    client.post("/repairs/report", "triage POST", {"property": homes[0], "emergency": "none"})
    for _ in range(8):
        if client.path.endswith("/report/details"):
            break
        nodes = input_values(client.html, "node")
        if not nodes:
            raise JourneyError(f"no repair options on {client.path}")
        params = {"property": homes[0], "node": nodes[0], "continue": "1"}
        parent = input_values(client.html, "parent")
        if parent:
            params["parent"] = parent[0]
        client.get("/repairs/report/problem", "repairs tree page", params=params)
    client.post(
        "/repairs/report/details",
        "report POST",
        {
            "property": input_values(client.html, "property")[0],
            "problem": input_values(client.html, "problem")[0],
            "description": "The kitchen tap drips all day.",
            "access_notes": "",
            "contact_preference": "email",
        },
    )
    match = re.search(r"/repairs/([A-Z0-9-]+)$", client.path)
    if not match:
        raise JourneyError(f"the repair report ended on {client.path}")
    return match.group(1)


def prepare_tenant(client: Client, ctx: Context, index: int) -> None:
    """Once per client: sign in as a demo tenant and report the repair to book for."""
    email, password = ctx.residents[index % len(ctx.residents)]
    sign_in(client, email, password)
    client.repair = report_repair(client)  # type: ignore[attr-defined]


def repair_booking(client: Client, ctx: Context) -> None:
    """Open the booking page, pick a free slot, land on the repair with the appointment."""
    reference = client.repair  # type: ignore[attr-defined]
    client.get(f"/repairs/{reference}/book", "booking page")
    slots = input_values(client.html, "slot")
    if not slots:
        raise JourneyError("no free appointment slots offered")
    client.post(f"/repairs/{reference}/book", "booking POST", {"slot": random.choice(slots)})
    if client.path != f"/repairs/{reference}" or "Appointment booked" not in client.html:
        raise JourneyError(f"the booking ended on {client.path} without a booked appointment")


# ---------------------------------------------------------------------------------------------
# Planning: sign up for an alert, then confirm it from the email


def alert_sign_up(client: Client, ctx: Context) -> None:
    email = f"alerts-{secrets.token_hex(6)}@example.com"
    client.get("/planning/alerts", "alerts page")
    client.post(
        "/planning/alerts",
        "alert POST",
        {
            "area": "ward",
            "wards": random.choice(ctx.wards),
            "email": email,
            "frequency": "weekly",
        },
    )
    if client.path != "/planning/alerts/check-your-email":
        raise JourneyError(f"the alert sign-up ended on {client.path}")
    body = ctx.outbox(email) if ctx.outbox else None
    match = CONFIRM_LINK.search(body or "")
    if not match:
        raise JourneyError("no confirmation email for the alert")
    client.get(f"/planning/confirm/{match.group(1)}", "confirm page")
    client.post(f"/planning/confirm/{match.group(1)}", "confirm POST")


# ---------------------------------------------------------------------------------------------
# Driving and summarising


@dataclass
class Journey:
    part: str
    endpoint: str  # must exist in the build for the part to run
    run: Callable[[Client, Context], None]
    measured_step: str  # the POST whose latency and rate the part reports
    budget: str = ""  # "form_post": every POST of the journey is held to the form POST budget
    prepare: Callable[[Client, Context, int], None] | None = None


JOURNEYS = [
    Journey(
        "Form submission without a file",
        "online_forms.submit",
        form_without_file,
        "submit POST",
        budget="form_post",
    ),
    Journey(
        "Form submission with a file",
        "online_forms.submit",
        form_with_file,
        "page POST with a file",
    ),
    Journey(
        "Payment through the sandbox gateway",
        "payments.sandbox_card",
        sandbox_payment,
        "card POST",
    ),
    Journey("Payment webhook", "payments.stripe_webhook", payment_webhook, "webhook POST"),
    Journey(
        "Repair booking", "repairs.book", repair_booking, "booking POST", prepare=prepare_tenant
    ),
    Journey("Planning alert sign-up", "planning.alerts_post", alert_sign_up, "alert POST"),
]


def prepare_clients(
    base: str, journey: Journey, ctx: Context, clients: int, recorder: Recorder
) -> list[Client]:
    """The clients of one part, each signed in and set up when the journey needs it."""
    made = []
    for index in range(clients):
        client = Client(base, recorder)
        if journey.prepare is not None:
            journey.prepare(client, ctx, index)
        made.append(client)
    return made


def drive(
    journey: Journey,
    ctx: Context,
    clients: list[Client],
    seconds: float,
    recorder: Recorder,
    stop: threading.Event | None = None,
) -> dict:
    """Run `journey` on every client until `seconds` have passed; returns the part's figures."""
    stop = stop or threading.Event()
    deadline = time.monotonic() + seconds
    started = time.perf_counter()

    def loop(client: Client) -> None:
        while time.monotonic() < deadline and not stop.is_set():
            begun = time.perf_counter()
            try:
                journey.run(client, ctx)
            except (JourneyError, requests.RequestException) as exc:
                with recorder.lock:
                    recorder.failures.append(str(exc))
                continue
            with recorder.lock:
                recorder.journeys.append((time.perf_counter() - begun) * 1000)

    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summarise(journey, recorder, time.perf_counter() - started)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def summarise(journey: Journey, recorder: Recorder, duration: float) -> dict:
    samples = list(recorder.samples)
    step = [s.ms for s in samples if s.step == journey.measured_step]
    posts = [s.ms for s in samples if s.method == "POST"]
    failures = list(recorder.failures)
    return {
        "requests": len(samples),
        "rps": round(len(samples) / duration, 1) if duration else 0.0,
        "step": {
            "name": journey.measured_step,
            "requests": len(step),
            "rps": round(len(step) / duration, 1) if duration else 0.0,
            **percentiles(step),
        },
        "posts": {"requests": len(posts), **percentiles(posts)},
        "journeys": {
            "completed": len(recorder.journeys),
            "per_second": round(len(recorder.journeys) / duration, 1) if duration else 0.0,
            **percentiles(recorder.journeys),
        },
        "failed_journeys": len(failures),
        "failures": sorted(set(failures))[:5],
        "s5xx": sum(1 for s in samples if s.status >= 500),
        "seconds": round(duration, 1),
    }
