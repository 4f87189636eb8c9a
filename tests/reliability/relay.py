"""A TCP relay on 127.0.0.1 between the portal and a real Redis or PostgreSQL, to make it fail.

Modes, switched at any time with `relay.mode = ...`:
- "pass": connections are relayed both ways.
- "refuse": new connections are reset at once and the relayed ones are closed.
- "hang": new connections are accepted and never answered; the relayed ones are closed (the
  server has gone away and something answers in its place without ever replying).
"""

from __future__ import annotations

import socket
import struct
import threading
from contextlib import suppress

MODES = ("pass", "refuse", "hang")


class Relay:
    def __init__(self, target_host: str, target_port: int, mode: str = "pass") -> None:
        self.target = (target_host, target_port)
        self._mode = mode
        self._lock = threading.Lock()
        self._relayed: list[socket.socket] = []
        self._held: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        assert mode in MODES, mode
        with self._lock:
            self._mode = mode
            if mode != "pass":
                for sock in self._relayed:
                    _reset(sock)
                self._relayed.clear()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self._mode
                if mode == "refuse":
                    _reset(conn)
                elif mode == "hang":
                    self._held.append(conn)
                else:
                    try:
                        upstream = socket.create_connection(self.target, timeout=5)
                        upstream.settimeout(None)
                    except OSError:
                        _reset(conn)
                        continue
                    self._relayed += [conn, upstream]
                    for a, b in ((conn, upstream), (upstream, conn)):
                        threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self._closed = True
        with suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._relayed + self._held:
                _reset(sock)
            self._relayed.clear()
            self._held.clear()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _reset(source)
        _reset(sink)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a refusing or crashed server does."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked reading it
    with suppress(OSError):
        sock.close()
