"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import sys

from portal import create_app
from portal.config import ConfigurationError

# gunicorn halts (rather than restarting the worker for ever) when a worker exits with this code.
WORKER_BOOT_ERROR = 3

try:
    app = create_app()
except ConfigurationError as exc:  # say why, and exit non-zero (gunicorn stops)
    print(f"The portal cannot start: {exc}", file=sys.stderr)
    sys.exit(WORKER_BOOT_ERROR)
