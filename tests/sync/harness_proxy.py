"""The link between a child node and its parent in a test network: a TCP forwarder the test
can cut and restore to simulate a partition of that one link (see :mod:`harness`)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

HOST = "127.0.0.1"


def _hard_close(sock: socket.socket) -> None:
    """Close with a reset, and wake any thread blocked on the socket."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv()
    with contextlib.suppress(OSError):
        sock.close()


class LinkProxy:
    """A TCP forwarder from 127.0.0.1:``port`` to 127.0.0.1:``target_port``.

    :meth:`cut` resets every open connection and refuses new ones until :meth:`restore`: for
    the child it is as if the network between it and its parent went down, at any point of a
    request (before the parent got it, while it applied it, or before the answer came back)."""

    def __init__(self, target_port: int, name: str = "link") -> None:
        self.target_port, self.name = target_port, name
        self._server = socket.create_server((HOST, 0))
        self._server.settimeout(0.2)
        self.port = int(self._server.getsockname()[1])
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._closed = threading.Event()
        self.connections = 0
        self.cuts = 0
        self._recording: list[tuple[str, bytearray]] | None = None  # see record()
        self._thread = threading.Thread(target=self._accept, name=f"proxy-{name}", daemon=True)
        self._thread.start()

    @property
    def is_cut(self) -> bool:
        return self._cut

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            self.cuts += 1
            doomed, self._open = list(self._open), set()
        for sock in doomed:
            _hard_close(sock)

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def record(self) -> None:
        """Keep a copy of every byte that crosses the link from now on, for a test of what
        travels in the clear (see :meth:`recorded`)."""
        with self._lock:
            self._recording = []

    def recorded(self, direction: str) -> list[bytes]:
        """What went ``"up"`` (child to parent) or ``"down"`` since :meth:`record`: the bytes
        of each connection's stream, whole."""
        with self._lock:
            return [bytes(b) for d, b in self._recording or () if d == direction]

    def close(self) -> None:
        self._closed.set()
        self.cut()
        self._thread.join(timeout=5)
        self._server.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            if self._cut:
                _hard_close(client)
                continue
            try:
                upstream = socket.create_connection((HOST, self.target_port), timeout=2)
            except OSError:
                _hard_close(client)  # the parent is down: the child sees a refused connection
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._cut:
                    _hard_close(client)
                    _hard_close(upstream)
                    continue
                self._open.update((client, upstream))
                self.connections += 1
            for src, dst, direction in ((client, upstream, "up"), (upstream, client, "down")):
                threading.Thread(
                    target=self._pump,
                    args=(src, dst, direction),
                    name=f"pump-{self.name}",
                    daemon=True,
                ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str) -> None:
        stream: bytearray | None = None  # this connection's bytes this way, when recording
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if self._recording is not None and stream is None:
                    stream = bytearray()
                    with self._lock:
                        if self._recording is not None:
                            self._recording.append((direction, stream))
                if stream is not None:
                    stream += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(src)
                self._open.discard(dst)
            for sock in (src, dst):
                _close(sock)
