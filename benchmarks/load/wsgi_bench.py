"""The portal as gunicorn serves it, plus the load test's own routes (never in the portal):

- GET /_bench/hello: a bare route, the yardstick for requests per second.
- GET /_bench/endpoints: which endpoints this build has (so each workload part runs when its
  slice is present).
- POST /_bench/record: a minimal transactional POST: one take-up row (`record_transaction`) in
  one transaction, the write every submission makes.
"""

from __future__ import annotations

import secrets

from flask import jsonify

from portal import create_app
from portal.common.transactions import record_transaction
from portal.extensions import csrf, db

app = create_app()


@app.get("/_bench/hello")
def hello():
    return "hello"


@app.get("/_bench/endpoints")
def endpoints():
    return jsonify(
        {
            rule.endpoint: {"rule": rule.rule, "methods": sorted(rule.methods or ())}
            for rule in app.url_map.iter_rules()
        }
    )


@app.post("/_bench/record")
@csrf.exempt
def record():
    record_transaction("load-test", None, 8, object_ref=secrets.token_hex(8))
    db.session.commit()
    return "", 201
