"""Request logs: one JSON line per request on standard output, carrying the request id the
response shows, with secret links redacted."""

from __future__ import annotations

import json
import logging

import pytest

from portal.observability import REDACTED


def request_lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


def test_each_request_logs_a_line_with_its_request_id(client, capsys):
    capsys.readouterr()
    first = client.get("/")
    second = client.get("/no-such-page")
    lines = request_lines(capsys)
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/", 200),
        ("/no-such-page", 404),
    ]
    assert lines[0]["request_id"] == first.headers["X-Request-Id"]
    assert lines[1]["request_id"] == second.headers["X-Request-Id"]
    assert lines[0]["request_id"] != lines[1]["request_id"]
    assert all(line["method"] == "GET" and line["duration_ms"] >= 0 for line in lines)


def test_request_lines_go_to_stdout_only_and_once(client, capsys):
    capsys.readouterr()
    client.get("/healthz", headers={"X-Request-Id": "once-only-1"})
    captured = capsys.readouterr()
    assert captured.out.count('"once-only-1"') == 1
    assert "once-only-1" not in captured.err
    assert logging.getLogger("portal").propagate is False


@pytest.mark.parametrize(
    "incoming",
    [
        "3f2c9a64-5b1e-4c1d-9a0e-7d2b8c6f1e11",
        "3f2c9a645b1e4c1d9a0e7d2b8c6f1e11",
        "abc123DEF",
        "req-2026.12.01_42",
        "a" * 64,
    ],
)
def test_common_request_id_forms_are_kept(client, capsys, incoming):
    capsys.readouterr()
    response = client.get("/healthz", headers={"X-Request-Id": incoming})
    (line,) = request_lines(capsys)
    assert response.headers["X-Request-Id"] == incoming == line["request_id"]


@pytest.mark.parametrize("incoming", ["bad id; with <script>", "a" * 65, "x\u00e9y", "a/b"])
def test_other_request_ids_are_replaced(client, capsys, incoming):
    capsys.readouterr()
    response = client.get("/healthz", headers={"X-Request-Id": incoming})
    (line,) = request_lines(capsys)
    assert response.headers["X-Request-Id"] == line["request_id"] != incoming
    assert line["request_id"].isalnum()


SECRET = "s3cret-Token_value.XYZ"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/confirm-email/{SECRET}", f"/confirm-email/{REDACTED}"),
        (f"/confirm-new-email/{SECRET}", f"/confirm-new-email/{REDACTED}"),
        (f"/reset-password/{SECRET}", f"/reset-password/{REDACTED}"),
        (f"/planning/confirm/{SECRET}", f"/planning/confirm/{REDACTED}"),
        (f"/planning/unsubscribe/{SECRET}", f"/planning/unsubscribe/{REDACTED}"),
        (f"/forms/some-form/resume/{SECRET}", f"/forms/some-form/resume/{REDACTED}"),
        (f"/payments/sandbox/{SECRET}", f"/payments/sandbox/{REDACTED}"),
        (f"/payments/sandbox/{SECRET}/confirm", f"/payments/sandbox/{REDACTED}/confirm"),
    ],
)
def test_secret_links_are_redacted(client, capsys, path, logged):
    capsys.readouterr()
    client.get(path + "?token=" + SECRET)
    client.put(path)  # a method the route refuses (405) is redacted too
    captured = capsys.readouterr()
    assert SECRET not in captured.out and SECRET not in captured.err
    lines = request_lines_from(captured.out)
    assert [line["path"] for line in lines] == [logged, logged]


def test_ordinary_paths_are_logged_as_they_are(client, capsys):
    capsys.readouterr()
    client.get("/payments/PAY-123/return")
    (line,) = request_lines(capsys)
    assert line["path"] == "/payments/PAY-123/return"


def request_lines_from(out: str) -> list[dict]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]
