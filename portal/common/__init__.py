"""Small shared pieces every slice uses: references, audit log, outbox, storage, gazetteer."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from portal.common import (
        models,  # noqa: F401  (tables known to migrations)
        outbox,  # noqa: F401  (registers the delivery jobs)
    )
    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.common.gazetteer.views import bp as gazetteer_bp
    from portal.demo import register_demo_loader

    app.register_blueprint(gazetteer_bp)
    register_demo_loader(app, 10, "gazetteer", lambda: [f"{load_demo_gazetteer()} addresses added"])
