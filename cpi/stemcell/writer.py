"""Write a stemcell's disk image onto a block device (or a file standing in for one) in one streaming pass.

Raw images (the usual `root.img`) go straight from the decoder to the target: data ranges are written, zero ranges
are zeroed with `Zeroer` (hole punch / write-zeroes) instead of being written, so a mostly-empty image costs little
more than its inflate, and a device that held old data still reads back byte-identical to the image. There is no
temporary copy on disk.

A dynamic VHD (bosh-linux-stemcell-builder's CloudStack disk) is streamed too: its block allocation table is in the
first KiBs, its blocks then come in file order and each is written where it belongs in the disk, the unallocated ones
zeroed. A fixed VHD (raw data plus a 512-byte footer) is recognised at the end of the raw pass.

qcow2 and VHDX images (and VHDs whose size qemu reads from their CHS geometry) need `qemu-img convert`, which must
seek in its input: the image is first streamed into a temporary file (sparse, zero ranges punched; these formats are
compact already) which `qemu-img convert -n -O raw` then writes onto the target; the temporary file is removed at
once. That costs one extra write of the image's size, the price of not reimplementing qcow2/VHDX decoding.
"""
from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cpi.stemcell import qemu
from cpi.stemcell.archive import ImageStream
from cpi.stemcell.compression import decoder
from cpi.stemcell.errors import StemcellImageError
from cpi.stemcell.formats import (
    HEAD_SIZE,
    RAW,
    VHD,
    VHD_FOOTER_SIZE,
    DynamicVhd,
    detect_format,
    dynamic_vhd_layout,
    fixed_vhd_data_size,
)
from cpi.stemcell.zeroing import Zeroer

#: Called as progress(bytes_done, bytes_total) after every chunk (a few times per second at most per GiB).
ProgressCallback = Callable[[int, int], None]

CHUNK = 4 << 20  # bytes inflated per read
GRAIN = 64 << 10  # zero detection granularity: a 64 KiB range that is all zeros is zeroed, not written
_ZERO_GRAIN = memoryview(bytes(GRAIN))


@dataclass(frozen=True)
class WriteResult:
    """What `write_image` did."""

    format: str  # format of the disk image: raw, qcow2, vhd or vhdx
    image_size: int  # bytes of raw disk now at the start of the target
    data_bytes: int | None  # bytes written as data (None when qemu-img converted)
    zeroed_bytes: int | None  # bytes made zero without writing them (None when qemu-img converted)
    zero_method: str  # how zero ranges were made zero (punch_hole, zero_range, blkzeroout, write_zeros, qemu-img)
    decoder: str  # what decompressed the image: isal, zlib, indexed_bzip2, bz2 or none


def write_image(
    image_path: str,
    target: str,
    *,
    progress: ProgressCallback | None = None,
    tmp_dir: str | None = None,
    sync: bool = True,
    size: int | None = None,
) -> WriteResult:
    """Write the disk image in the stemcell `image` file at `image_path` onto `target`, as raw bytes.

    `target` is a block device (it must be at least as large as the disk; bytes past the disk are left alone) or a
    regular file (created if missing; truncated or extended to exactly the disk's size). With `sync` the data is
    flushed to stable storage before returning (needed before the CPI detaches the volume). `size`, the image's
    length from an earlier `inspect_image`, spares a compressed bare disk's counting pass.
    """
    with ImageStream(image_path, size=size) as image:
        buf = bytearray(CHUNK)
        filled = image.readinto(buf)
        fmt = detect_format(bytes(buf[:HEAD_SIZE]))
        if fmt == RAW:
            return _write_raw(image, buf, filled, target, progress, sync)
        vhd = dynamic_vhd_layout(bytes(buf[:filled])) if fmt == VHD else None
        if vhd is not None and vhd.qemu_agrees:
            return _write_dynamic_vhd(image, buf, filled, vhd, target, progress, sync)
        return _write_converted(image, buf, filled, fmt, target, progress, tmp_dir)


def _write_raw(
    image: ImageStream, buf: bytearray, filled: int, target: str, progress: ProgressCallback | None, sync: bool
) -> WriteResult:
    fd, is_block = _open_target(target, image.size)
    try:
        copier = _Copier(fd, Zeroer(fd, is_block_device=is_block))
        try:
            tail = copier.copy(image, buf, filled, progress)
            image.finish()
            fmt, size = RAW, image.size
            vhd_size = fixed_vhd_data_size(tail, image.size)
            if vhd_size is not None:  # a fixed VHD: the footer is not part of the disk
                fmt, size = VHD, vhd_size
                copier.zeroer.zero(vhd_size, VHD_FOOTER_SIZE)
            _settle(fd, is_block, size, sync)
        except OSError as exc:
            raise StemcellImageError(f"Cannot write the stemcell image onto {target}: {exc.strerror}") from None
        return WriteResult(fmt, size, copier.data_bytes, copier.zeroed_bytes, copier.zeroer.method,
                           decoder(image.compression))
    finally:
        os.close(fd)


def _write_dynamic_vhd(
    image: ImageStream,
    buf: bytearray,
    filled: int,
    vhd: DynamicVhd,
    target: str,
    progress: ProgressCallback | None,
    sync: bool,
) -> WriteResult:
    """A dynamic VHD (bosh-linux-stemcell-builder's CloudStack disk) straight onto the target, no temporary copy:
    its blocks come in file order, each is written at its place in the disk, and the disk's unallocated blocks are
    zeroed. The disk size is the footer's current size, what `qemu-img` reads too (`vhd.qemu_agrees`)."""
    size = vhd.disk_size
    fd, is_block = _open_target(target, size)
    try:
        copier = _Copier(fd, Zeroer(fd, is_block_device=is_block))
        source = _Sequential(image, buf, filled)
        block = bytearray(vhd.block_size)
        view = memoryview(block)
        allocated: set[int] = set()
        try:
            for offset, index in vhd.blocks:
                if offset < source.position:
                    raise StemcellImageError(f"Stemcell image {image.path}: VHD block {index} overlaps another")
                source.skip(offset - source.position)
                source.read_exactly(view)
                start = index * vhd.block_size
                length = max(0, min(vhd.block_size, size - start))
                copier.seek(start)
                copier.feed(block, view, length)
                allocated.add(index)
                if progress is not None:
                    progress(min(len(allocated) * vhd.block_size, size), size)
            source.skip_rest()
            image.finish()
            copier.seek(size)
            for start, length in _unallocated(allocated, vhd.block_size, size):
                copier.zeroer.zero(start, length)
                copier.zeroed_bytes += length
            _settle(fd, is_block, size, sync)
        except OSError as exc:
            raise StemcellImageError(f"Cannot write the stemcell image onto {target}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if progress is not None:
        progress(size, size)
    return WriteResult(VHD, size, copier.data_bytes, copier.zeroed_bytes, copier.zeroer.method,
                       decoder(image.compression))


def _settle(fd: int, is_block: bool, size: int, sync: bool) -> None:
    """A file target ends where the disk ends; with `sync`, everything is on stable storage."""
    if not is_block:
        os.ftruncate(fd, size)
    if sync:
        os.fsync(fd)


def _unallocated(allocated: set[int], block_size: int, size: int) -> Iterator[tuple[int, int]]:
    """(offset, length) runs of the disk that no allocated block covers."""
    run_start = None
    for index in range(-(-size // block_size) + 1):
        start = min(index * block_size, size)
        if index not in allocated and start < size:
            run_start = start if run_start is None else run_start
        elif run_start is not None:
            yield run_start, start - run_start
            run_start = None


class _Sequential:
    """The image read front to back by offset: `buf[:filled]` (already read) first, then the stream."""

    def __init__(self, image: ImageStream, buf: bytearray, filled: int) -> None:
        self._image = image
        self._pending = memoryview(buf)[:filled]
        self.position = 0

    def read_exactly(self, view: memoryview) -> None:
        got = 0
        if self._pending:
            got = min(len(view), len(self._pending))
            view[:got] = self._pending[:got]
            self._pending = self._pending[got:]
        while got < len(view):
            n = self._image.readinto(view[got:])
            if not n:
                raise StemcellImageError(f"Stemcell image {self._image.path} is truncated inside a VHD block")
            got += n
        self.position += got

    def skip(self, count: int) -> None:
        scratch = memoryview(bytearray(min(max(count, 1), 1 << 20)))
        while count > 0:
            n = min(count, len(scratch))
            self.read_exactly(scratch[:n])
            count -= n

    def skip_rest(self) -> None:
        """Read to the end of the image (the footer after the last block)."""
        self._pending = self._pending[len(self._pending):]
        scratch = bytearray(1 << 20)
        while self._image.readinto(scratch):
            pass


def _write_converted(
    image: ImageStream,
    buf: bytearray,
    filled: int,
    fmt: str,
    target: str,
    progress: ProgressCallback | None,
    tmp_dir: str | None,
) -> WriteResult:
    tmp_path = _spool(image, buf, filled, fmt, tmp_dir)
    try:
        size = qemu.virtual_size(tmp_path, fmt)
        fd, is_block = _open_target(target, size)
        try:
            if not is_block:
                os.ftruncate(fd, size)
        finally:
            os.close(fd)
        on_percent = None if progress is None else (lambda pct: progress(min(int(size * pct / 100), size), size))
        qemu.convert_to_raw(tmp_path, fmt, target, on_percent)
    finally:
        os.unlink(tmp_path)
    if progress is not None:
        progress(size, size)
    return WriteResult(fmt, size, None, None, "qemu-img", decoder(image.compression))


@contextmanager
def spooled_image(image_path: str, *, size: int | None = None, tmp_dir: str | None = None) -> Iterator[tuple[str, str]]:
    """The disk image as a plain (sparse) temporary file, for qemu-img, which must seek in its input: yields
    (path, format) and removes the file afterwards."""
    with ImageStream(image_path, size=size) as image:
        buf = bytearray(CHUNK)
        filled = image.readinto(buf)
        fmt = detect_format(bytes(buf[:HEAD_SIZE]))
        tmp_path = _spool(image, buf, filled, fmt, tmp_dir)
    try:
        yield tmp_path, fmt
    finally:
        os.unlink(tmp_path)


def _spool(image: ImageStream, buf: bytearray, filled: int, fmt: str, tmp_dir: str | None) -> str:
    """Stream the rest of `image` (`buf[:filled]` already read) into a new sparse temporary file; its path."""
    handle, tmp_path = tempfile.mkstemp(prefix="stemcell-", suffix=f".{fmt}", dir=tmp_dir)
    try:
        try:
            _Copier(handle, Zeroer(handle, is_block_device=False)).copy(image, buf, filled, None)
            os.ftruncate(handle, image.size)
        except OSError as exc:
            raise StemcellImageError(f"Cannot write a temporary copy of the {fmt} image to {tmp_path}: "
                                     f"{exc.strerror}") from None
        finally:
            os.close(handle)
        image.finish()
    except BaseException:
        os.unlink(tmp_path)
        raise
    return tmp_path


def _open_target(target: str, needed: int) -> tuple[int, bool]:
    """Open `target` for writing: (fd, is_block_device). A block device must hold `needed` bytes."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG
    except OSError as exc:
        raise StemcellImageError(f"Cannot use {target} as the stemcell target: {exc.strerror}") from None
    is_block = stat.S_ISBLK(mode)
    if not is_block and not stat.S_ISREG(mode):
        raise StemcellImageError(f"Cannot write a stemcell image onto {target}: not a block device or regular file")
    flags = os.O_WRONLY | os.O_CLOEXEC | (0 if is_block else os.O_CREAT)
    try:
        fd = os.open(target, flags, 0o600)
    except OSError as exc:
        raise StemcellImageError(f"Cannot open {target} for writing: {exc.strerror}") from None
    if is_block:
        capacity = os.lseek(fd, 0, os.SEEK_END)
        if capacity < needed:
            os.close(fd)
            raise StemcellImageError(
                f"Block device {target} is too small for the stemcell image: {capacity} bytes, {needed} needed"
            )
    return fd, is_block


class _Copier:
    """Streams image bytes to `fd`: data ranges written, runs of all-zero 64 KiB grains zeroed in one call."""

    def __init__(self, fd: int, zeroer: Zeroer) -> None:
        self.fd = fd
        self.zeroer = zeroer
        self.data_bytes = 0
        self.zeroed_bytes = 0
        self._pos = 0
        self._zero_from: int | None = None  # start of the pending zero run (absolute offset)

    def copy(self, image: ImageStream, buf: bytearray, filled: int, progress: ProgressCallback | None) -> bytes:
        """Copy the rest of the image (`buf[:filled]` already read); return its last 512 bytes."""
        view = memoryview(buf)
        tail = b""
        while filled:
            self.feed(buf, view, filled)
            tail = (tail + bytes(view[max(0, filled - VHD_FOOTER_SIZE):filled]))[-VHD_FOOTER_SIZE:]
            if progress is not None:
                progress(self._pos, image.size)
            filled = image.readinto(view)
        self._flush_zeros(self._pos)
        return tail

    def feed(self, buf: bytearray, view: memoryview, length: int) -> None:
        """Write `buf[:length]` (`view` over `buf`) at the current position and move past it."""
        self._scan(buf, view, length)
        self._pos += length

    def seek(self, position: int) -> None:
        """Go on writing at `position` (any pending zero run is zeroed first)."""
        self._flush_zeros(self._pos)
        self._pos = position

    def _scan(self, buf: bytearray, view: memoryview, length: int) -> None:
        run_start, run_zero = 0, None
        for offset in range(0, length, GRAIN):
            is_zero = buf.startswith(_ZERO_GRAIN[:min(GRAIN, length - offset)], offset)
            if is_zero is not run_zero:
                if run_zero is not None:
                    self._emit(view, run_start, offset, run_zero)
                run_start, run_zero = offset, is_zero
        if run_zero is not None:
            self._emit(view, run_start, length, run_zero)

    def _emit(self, view: memoryview, start: int, end: int, zero: bool) -> None:
        if zero:
            if self._zero_from is None:
                self._zero_from = self._pos + start
            return
        self._flush_zeros(self._pos + start)
        offset, data = self._pos + start, view[start:end]
        while data:
            written = os.pwrite(self.fd, data, offset)
            data, offset = data[written:], offset + written
        self.data_bytes += end - start

    def _flush_zeros(self, upto: int) -> None:
        if self._zero_from is not None:
            self.zeroer.zero(self._zero_from, upto - self._zero_from)
            self.zeroed_bytes += upto - self._zero_from
            self._zero_from = None
