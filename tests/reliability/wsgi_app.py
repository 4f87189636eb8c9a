"""The portal as gunicorn serves it, plus test-only routes the reliability tests drive.

`gunicorn tests.reliability.wsgi_app:app` (settings from PORTAL_* variables). The extra routes
exist only in this module, never in the portal itself:

- POST /_reliability/record: one take-up record (`record_transaction`) for the given `key`, in one
  transaction; a repeated key records nothing more (the client's retry after a lost response).
- GET /_reliability/whoami: the signed-in user's email, or "anonymous".
- GET /_reliability/limited: limited to 5 a minute per `X-Bucket` header (Flask-Limiter).
- POST /_reliability/upload, GET /_reliability/upload/<key>: store and read back through
  `portal.common.storage`.
- GET /_reliability/hello: a bare route (the load test's yardstick).
"""

from __future__ import annotations

from flask import Response, abort, jsonify, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy import func, select

from portal import create_app
from portal.common import storage
from portal.common.models import ServiceTransaction
from portal.common.transactions import record_transaction
from portal.extensions import csrf, db, limiter

RECORD_KIND = "reliability-test"  # also in tests/reliability/conftest.py (tests never import this)

app = create_app()


def _bucket() -> str:
    return request.headers.get("X-Bucket") or get_remote_address()


@app.post("/_reliability/record")
@csrf.exempt
def record():
    key = (request.form.get("key") or "")[:60]
    if not key:
        abort(400)
    existing = db.session.scalar(
        select(func.count(ServiceTransaction.id)).where(
            ServiceTransaction.kind == RECORD_KIND, ServiceTransaction.object_ref == key
        )
    )
    if existing:
        db.session.rollback()
        return jsonify({"key": key, "recorded": False}), 200
    record_transaction(RECORD_KIND, None, 8, object_ref=key)
    db.session.commit()
    return jsonify({"key": key, "recorded": True}), 201


@app.get("/_reliability/whoami")
def whoami():
    return current_user.email if current_user.is_authenticated else "anonymous"


@app.get("/_reliability/limited")
@limiter.limit("5/minute", key_func=_bucket)
def limited():
    return "ok"


@app.post("/_reliability/upload")
@csrf.exempt
def upload():
    key = storage.save_bytes(request.get_data(), "reliability", "bin")
    return jsonify({"key": key}), 201


@app.get("/_reliability/upload/<path:key>")
def read_upload(key: str):
    try:
        data = storage.read_bytes(key)
    except (FileNotFoundError, storage.StorageError):
        abort(404)
    return Response(data, mimetype="application/octet-stream")


@app.get("/_reliability/hello")
def hello():
    return "hello"
