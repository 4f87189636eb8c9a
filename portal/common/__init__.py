"""Small shared pieces every slice uses: references, audit log, outbox, storage, gazetteer,
submission tokens."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from portal.common import (
        models,  # noqa: F401  (tables known to migrations)
        outbox,  # noqa: F401  (registers the delivery jobs)
        submissions,
    )
    from portal.common.gazetteer.boundaries import load_demo_boundaries
    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.common.gazetteer.views import bp as gazetteer_bp
    from portal.demo import register_demo_loader

    app.register_blueprint(gazetteer_bp)
    app.jinja_env.globals["submission_token_field"] = submissions.submission_token_field
    register_demo_loader(app, 5, "boundaries", load_demo_boundaries)
    register_demo_loader(app, 10, "gazetteer", lambda: [f"{load_demo_gazetteer()} addresses added"])
