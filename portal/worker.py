"""The production job consumer's entry point: `huey_consumer portal.worker.huey`.

Importing the app registers every task; tasks then run in this app's context.
"""

from portal import create_app
from portal.jobs import huey, set_worker_app

app = create_app()
set_worker_app(app)

__all__ = ["huey"]
