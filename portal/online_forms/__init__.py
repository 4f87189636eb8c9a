"""Online forms: staff build forms without code, residents complete them, officers process them."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from portal.api import register_openapi
    from portal.demo import register_demo_loader
    from portal.extensions import csrf
    from portal.online_forms import (
        jobs,  # noqa: F401  (the daily digest task)
        models,  # noqa: F401  (tables known to migrations)
        services,
    )
    from portal.online_forms.demo import load_demo_forms
    from portal.online_forms.open311 import OPENAPI_PATHS, create_request
    from portal.online_forms.open311 import bp as open311_bp
    from portal.online_forms.questions import QUESTION_TYPES, options_of
    from portal.online_forms.staff import bp as staff_bp
    from portal.online_forms.views import bp, my_council_rows, personal_data

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(open311_bp)
    register_openapi(app, OPENAPI_PATHS)
    csrf.exempt(create_request)  # key-authenticated API: no cookie, so no CSRF to forge
    app.jinja_env.globals.update(options_of=options_of, question_types=QUESTION_TYPES)
    app.extensions.setdefault("portal_staff_sections", []).extend(
        [
            {
                "title": "Form builder",
                "endpoint": "online_forms_staff.builder",
                "roles": ("editor",),
                "description": "Build, preview and publish online forms.",
            },
            {
                "title": "Form submissions",
                "endpoint": "online_forms_staff.inbox",
                "roles": ("officer",),
                "description": "Process the forms residents send to your office.",
            },
        ]
    )
    app.extensions.setdefault("portal_my_council_sections", []).append(
        (40, "Your forms", my_council_rows)
    )
    app.extensions.setdefault("portal_personal_data", []).append(("online_forms", personal_data))
    app.extensions.setdefault("portal_earlier_records", []).append(
        (
            40,
            "form requests",
            services.count_earlier_submissions,
            services.claim_earlier_submissions,
        )
    )
    register_demo_loader(app, 40, "forms", load_demo_forms)
    _register_payment_purpose(app, services)


def _register_payment_purpose(app: Flask, services) -> None:  # noqa: ANN001
    """Tell the payments slice what to do when a form's payment succeeds or fails."""
    try:
        from portal.payments.services import register_payment_purpose
    except ImportError:  # the payments slice is not installed
        return
    register_payment_purpose(
        app,
        services.PAYMENT_PURPOSE,
        services.on_payment_success,
        services.on_payment_failure,
        counted_by_purpose=True,  # a form with a fee is one transaction: the form's record
    )
