"""Queue emails the way the portal does, in a process configured like a web node.

`python -m tests.reliability.enqueue_emails COUNT BATCH`: COUNT emails in commits of BATCH; each
commit queues a delivery job on the real queue (Redis or SQLite, from PORTAL_REDIS_URL).
`python -m tests.reliability.enqueue_emails 0`: only queue one delivery job.
"""

from __future__ import annotations

import sys

from portal import create_app
from portal.common.outbox import deliver_outbox_task, queue_email
from portal.extensions import db


def main(count: int, batch: int) -> None:
    app = create_app()
    assert not app.extensions["huey"].immediate, "jobs must go to the real queue"
    with app.app_context():
        for start in range(0, count, batch):
            for i in range(start, min(start + batch, count)):
                queue_email(f"resident{i}@example.com", f"Reference {i}", f"Message {i}.")
            db.session.commit()  # commits the rows, then queues a delivery job
        if count == 0:
            deliver_outbox_task()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 50)
