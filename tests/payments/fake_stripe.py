"""A fake of Stripe's HTTP API on loopback, answering with recorded-shape JSON.

Only the HTTP boundary is fake: the portal talks to it through the real `stripe` library
(pointed here by PORTAL_STRIPE_API_BASE). It remembers idempotency keys like Stripe does.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


def _unflatten(pairs: list[tuple[str, str]]) -> dict:
    """line_items[0][price_data][unit_amount]=5 → nested dicts (lists as dicts keyed "0")."""
    out: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class FakeStripe:
    def __init__(self) -> None:
        self.sessions: dict[str, dict] = {}
        self.refunds: list[dict] = []
        self.requests: list[tuple[str, str, dict, str | None]] = []
        self.idempotent: dict[str, tuple[int, dict]] = {}
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{next(fake._ids)}")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                fake.requests.append(("GET", self.path, {}, None))
                path = self.path.split("?")[0]
                if path.startswith("/v1/checkout/sessions/"):
                    session = fake.sessions.get(path.rsplit("/", 1)[1])
                    if session:
                        return self._send(200, session)
                return self._send(
                    404,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "message": "No such checkout.session",
                        }
                    },
                )

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                params = _unflatten(parse_qsl(self.rfile.read(length).decode()))
                key = self.headers.get("Idempotency-Key")
                fake.requests.append(("POST", self.path, params, key))
                if key and key in fake.idempotent:
                    return self._send(*fake.idempotent[key])
                status, body = fake.handle_post(self.path, params)
                if key:
                    fake.idempotent[key] = (status, body)
                self._send(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def handle_post(self, path: str, params: dict) -> tuple[int, dict]:
        if path == "/v1/checkout/sessions":
            n = next(self._ids)
            item = params["line_items"]["0"]
            session = {
                "id": f"cs_test_{n:06d}",
                "object": "checkout.session",
                "mode": "payment",
                "url": f"https://checkout.stripe.com/c/pay/cs_test_{n:06d}",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": int(item["price_data"]["unit_amount"]),
                "currency": item["price_data"]["currency"],
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "payment_intent": None,
                "success_url": params["success_url"],
                "cancel_url": params["cancel_url"],
                "expires_at": int(params["expires_at"]),
                "created": int(time.time()),
                "livemode": False,
            }
            self.sessions[session["id"]] = session
            return 200, session
        if path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
            session = self.sessions[path.split("/")[4]]
            if session["status"] != "open":
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "Only open sessions can be expired",
                    }
                }
            session["status"] = "expired"
            return 200, session
        if path == "/v1/refunds":
            refund = {
                "id": f"re_test_{next(self._ids):06d}",
                "object": "refund",
                "amount": int(params["amount"]),
                "payment_intent": params["payment_intent"],
                "status": "succeeded",
                "currency": "gbp",
            }
            self.refunds.append(refund)
            return 200, refund
        return 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request"}}

    def complete(self, session_id: str) -> dict:
        """The payer paid on Stripe's page."""
        session = self.sessions[session_id]
        session.update(
            status="complete",
            payment_status="paid",
            payment_intent=f"pi_test_{next(self._ids):06d}",
        )
        return session

    def start(self) -> FakeStripe:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
