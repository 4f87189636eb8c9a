"""Request logs: one JSON line per request, carrying the request id the response shows."""

from __future__ import annotations

import json
import logging


def request_lines(caplog) -> list[dict]:  # noqa: ANN001
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "portal.requests"
    ]


def test_each_request_logs_a_line_with_its_request_id(client, caplog):
    caplog.set_level(logging.INFO, logger="portal.requests")
    first = client.get("/")
    second = client.get("/no-such-page")
    lines = request_lines(caplog)
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/", 200),
        ("/no-such-page", 404),
    ]
    assert lines[0]["request_id"] == first.headers["X-Request-Id"]
    assert lines[1]["request_id"] == second.headers["X-Request-Id"]
    assert lines[0]["request_id"] != lines[1]["request_id"]
    assert all(line["method"] == "GET" and line["duration_ms"] >= 0 for line in lines)


def test_an_incoming_request_id_is_kept_and_a_bad_one_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger="portal.requests")
    kept = client.get("/healthz", headers={"X-Request-Id": "abc123DEF"})
    replaced = client.get("/healthz", headers={"X-Request-Id": "bad id; with <script>"})
    lines = request_lines(caplog)
    assert kept.headers["X-Request-Id"] == "abc123DEF" == lines[0]["request_id"]
    assert replaced.headers["X-Request-Id"] == lines[1]["request_id"]
    assert "<" not in lines[1]["request_id"] and lines[1]["request_id"].isalnum()
