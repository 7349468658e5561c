"""Pickled messages over a stream socket: the sidecar <-> worker link.

Each message is its pickle, preceded by its length (8 bytes, big-endian),
which is what ``multiprocessing.connection.Connection`` does; importing
multiprocessing for it cost the worker 2.4 MB of RSS, and peak RSS is one of
the sidecar's targets. Blocking calls release the GIL, as any socket call.
"""

from __future__ import annotations

import pickle
import select
import socket
import struct

_LENGTH = struct.Struct("!Q")


class Channel:
    """``send(obj)``, ``recv()`` (EOFError once the other end closed), ``poll(timeout)``."""

    def __init__(self, fd: int) -> None:
        self._sock = socket.socket(fileno=fd)

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, obj) -> None:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        self._sock.sendall(_LENGTH.pack(len(data)))
        self._sock.sendall(data)

    def _read(self, size: int) -> bytes:
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size:
            n = self._sock.recv_into(view[got:])
            if not n:
                raise EOFError
            got += n
        return bytes(buffer) if size < 4096 else buffer

    def recv(self):
        (size,) = _LENGTH.unpack(self._read(_LENGTH.size))
        return pickle.loads(self._read(size))

    def poll(self, timeout: float | None = 0.0) -> bool:
        """Whether a message (or the other end's close) is waiting, within ``timeout`` s."""
        readable, _, _ = select.select([self._sock], [], [], timeout)
        return bool(readable)

    def close(self) -> None:
        self._sock.close()
