"""An exclusive, non-blocking lock on the state dir.

`flock` is tied to the open file description, so the kernel releases it when the holder dies, even by
SIGKILL: an interrupted run never leaves a stale lock behind, and no pid-file heuristics are needed.
The holder's pid and command are written into the lock file only to name it in the error message.
"""
from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path


class StateLocked(Exception):
    """Another inception run holds the state dir."""


class StateLock:
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> "StateLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StateLocked(f"{self.path.parent} is in use by {holder}; wait for it to finish "
                              "(the lock goes away by itself when that process ends)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({' '.join(os.path.basename(a) for a in sys.argv[:2])})\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "StateLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
