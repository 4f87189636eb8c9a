"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import sys

from portal import create_app
from portal.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as exc:  # say why, and exit non-zero (gunicorn stops)
    sys.exit(f"The portal cannot start: {exc}")
