"""One helper that renders a whole page, or only its fragment when htmx asked for it."""

from __future__ import annotations

from typing import Any

from flask import render_template as _render_template
from flask import request
from jinja2_fragments.flask import render_block


def is_htmx_request() -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def render_page(template: str, fragment: str | None = None, **context: Any) -> str:
    """Render `template`; for an htmx request render only its block named `fragment`.

    The block is rendered on its own, so macros it uses must be imported inside the block
    (`{% block results %}{% from "components/x.html" import y %}…{% endblock %}`): imports at the
    top of the template are not run for a fragment.
    """
    if fragment and is_htmx_request():
        return render_block(template, fragment, **context)
    return _render_template(template, **context)
