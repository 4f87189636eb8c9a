"""A real SMTP server on loopback (aiosmtpd) that records every message it accepts."""

from __future__ import annotations

import threading
from email import message_from_bytes

from aiosmtpd.controller import Controller


class Recorder:
    """aiosmtpd handler: keeps (Message-ID, To) of every accepted message.

    `hold_at`: the message with that 1-based number is recorded, then the reply waits until
    `release` is set (so a client can be killed after the server got the message and before
    it heard "250").
    """

    def __init__(self, hold_at: int | None = None) -> None:
        self.received: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.hold_at = hold_at
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.received.append((message["Message-ID"], message["To"]))
            number = len(self.received)
        if self.hold_at is not None and number == self.hold_at:
            self.holding.set()
            import asyncio

            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [message_id for message_id, _ in self.received]


class SmtpServer:
    def __init__(self, handler: Recorder, port: int) -> None:
        self.handler = handler
        self.port = port
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
