"""Observability: a JSON log line per job run with its duration; the queue's depth in /readyz."""

from __future__ import annotations

import json

from portal.jobs import huey


@huey.task()
def _observed_job(fail: bool = False) -> str:
    if fail:
        raise RuntimeError("the job broke")
    return "done"


def _job_lines(capsys) -> list[dict]:  # noqa: ANN001
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "job"]


def test_each_job_run_logs_a_json_line_with_its_duration(app, capsys):
    capsys.readouterr()
    with app.app_context():
        _observed_job()
    (line,) = [entry for entry in _job_lines(capsys) if entry["job"].endswith("_observed_job")]
    assert line["event"] == "job" and line["outcome"] == "ok"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["job_id"] and "queue_pending" in line


def test_a_failing_job_logs_its_error(app, capsys):
    capsys.readouterr()
    with app.app_context():
        _observed_job(fail=True)
    (line,) = [entry for entry in _job_lines(capsys) if entry["job"].endswith("_observed_job")]
    assert line["outcome"] == "error"
    assert line["error"] == "RuntimeError: the job broke"
    assert isinstance(line["duration_ms"], float)


def test_the_outbox_delivery_job_is_logged(app, capsys):
    from portal.common.outbox import queue_email
    from portal.extensions import db

    capsys.readouterr()
    with app.app_context():
        queue_email("resident@example.com", "Hello", "Body")
        db.session.commit()  # queues (here: runs) the delivery job
    jobs = [entry["job"] for entry in _job_lines(capsys)]
    assert any(job.endswith("deliver_outbox_task") for job in jobs), jobs


def test_readiness_reports_the_queue_depth(client):
    body = client.get("/readyz").get_json()
    assert isinstance(body["queue"]["pending"], int)
