"""Make a byte range of a block device or file read back as zeros, without writing the zeros when possible.

A volume that held old data must read back byte-identical to the raw image, so zero runs are never skipped on the
assumption that the target is empty. Methods, tried in order, the first one that works being kept for the target:

1. `fallocate(PUNCH_HOLE | KEEP_SIZE)`: files get a hole; block devices an unmap that the kernel only accepts when
   the device guarantees zeros afterwards (REQ_OP_WRITE_ZEROES with unmap, Linux >= 4.9).
2. `fallocate(ZERO_RANGE)`: zeroes in place (block devices: write-zeroes offload, or the kernel writes zero pages).
3. the `BLKZEROOUT` ioctl (block devices on kernels without fallocate support).
4. writing zeros.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import struct


FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10
BLKZEROOUT = 0x127F  # _IO(0x12, 127)

#: errnos meaning "this method is not available here", as opposed to a real I/O failure.
_UNSUPPORTED = {errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EINVAL, errno.ENOTTY, errno.ENODEV}
_SECTOR = 512
_ZERO_CHUNK = bytes(1 << 20)


def _load_fallocate():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        func = getattr(libc, "fallocate64", None) or libc.fallocate
    except (OSError, AttributeError):  # pragma: no cover - non-glibc platforms
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    func.restype = ctypes.c_int
    return func


_fallocate = _load_fallocate()


class Zeroer:
    """Zeroes ranges of one open target (`fd`), remembering which method works for it."""

    def __init__(self, fd: int, *, is_block_device: bool) -> None:
        self.fd = fd
        methods = []
        if _fallocate is not None:
            methods += [self._punch_hole, self._zero_range]
        if is_block_device:
            methods.append(self._blkzeroout)
        self._methods = methods
        self.method = "unknown"

    def zero(self, offset: int, length: int) -> None:
        """Make [offset, offset + length) read as zeros; OSError for real I/O failures (EIO, ENOSPC...)."""
        if length <= 0:
            return
        # Sector-aligned middle through the fast methods; unaligned edges (only at an odd-sized image end) by writes.
        start = -(-offset // _SECTOR) * _SECTOR
        end = (offset + length) // _SECTOR * _SECTOR
        if end <= start:
            self._write_zeros(offset, length)
            return
        self._write_zeros(offset, start - offset)
        self._zero_aligned(start, end - start)
        self._write_zeros(end, offset + length - end)

    def _zero_aligned(self, offset: int, length: int) -> None:
        while self._methods:
            method = self._methods[0]
            try:
                method(offset, length)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED:
                    raise
                self._methods.pop(0)
                continue
            self.method = method.__name__.lstrip("_")
            return
        self.method = "write_zeros"
        self._write_zeros(offset, length)

    def _punch_hole(self, offset: int, length: int) -> None:
        self._call_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length)

    def _zero_range(self, offset: int, length: int) -> None:
        self._call_fallocate(FALLOC_FL_ZERO_RANGE, offset, length)

    def _call_fallocate(self, mode: int, offset: int, length: int) -> None:
        assert _fallocate is not None
        if _fallocate(self.fd, mode, offset, length) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    def _blkzeroout(self, offset: int, length: int) -> None:
        fcntl.ioctl(self.fd, BLKZEROOUT, struct.pack("QQ", offset, length))

    def _write_zeros(self, offset: int, length: int) -> None:
        while length > 0:
            n = min(length, len(_ZERO_CHUNK))
            written = os.pwrite(self.fd, memoryview(_ZERO_CHUNK)[:n], offset)
            offset += written
            length -= written
