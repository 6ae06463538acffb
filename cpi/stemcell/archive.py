"""One sequential pass over the disk image in a stemcell `image` file, whatever its layout.

Layouts (every combination is read):
- compression: gzip, bzip2 or none (cpi.stemcell.compression);
- container: a tarball holding the disk as its single regular file (the classic `tar czf image root.img`), or the
  bare disk itself (bosh-linux-stemcell-builder's CloudStack stage: `bzip2 -c root.vhd > stemcell/image`);
- disk format: raw, qcow2, VHD (dynamic or fixed) or VHDX (cpi.stemcell.formats).

A tarball is recognised by a valid header in its first 512 bytes (tar checksums never match a disk's first sector),
a bare disk by its format's magic bytes, or for raw by its MBR boot signature.

Headers are decoded with `tarfile.TarInfo.frombuf`, but the data is read straight from the decoder into the caller's
buffer: tarfile's own stream reader copies every byte several times and costs more than the inflate itself.

The disk's length must be known before its first byte is sent (an upload's Content-Length): a tar header says it,
so does the file size of an uncompressed bare disk, and a compressed bare dynamic VHD's length follows from its block
allocation table (`formats.dynamic_vhd_file_size`). Only other compressed bare disks (raw, qcow2, VHDX) need a
counting pass, one extra decode; `inspect_image` does it once and the later passes are handed the size.
"""
from __future__ import annotations

import os
import tarfile
from types import TracebackType
from typing import BinaryIO

from cpi.stemcell.compression import NONE, READ_ERRORS, describe_read_error, open_decompressed
from cpi.stemcell.errors import StemcellImageError
from cpi.stemcell.formats import (
    HEAD_SIZE,
    RAW,
    VHD,
    VHDX,
    VHDX_HEAD_LIMIT,
    detect_format,
    dynamic_vhd_file_size,
    dynamic_vhd_head_size,
    has_boot_signature,
)

BLOCK = tarfile.BLOCKSIZE
TAR, BARE = "tar", "bare"
_ZERO_BLOCK = bytes(BLOCK)
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"
#: The most a compressed bare disk's head is read ahead to find its length (a dynamic VHD's BAT: 4 bytes a block).
_HEAD_LIMIT = 64 << 20


def _padding(size: int) -> int:
    return -size % BLOCK


class ImageStream:
    """The disk image of a stemcell `image` file, read once, front to back.

    Opening finds the disk (a tarball's first regular file, directories skipped; or the whole file when it is a bare
    disk) and its length `size`; `readinto` streams its bytes; `finish` checks what follows: a tarball may hold
    nothing but directories after the disk, a bare disk nothing at all. `size`, when the caller already knows it
    (from an earlier `inspect_image`), spares a compressed bare disk's counting pass.
    """

    def __init__(self, path: str, *, size: int | None = None) -> None:
        self.path = path
        self._stream, self.compression = open_decompressed(path)
        self._pending = b""  # bytes read ahead of the disk's consumer (a bare disk's head)
        self._remaining = 0
        self._finished = False
        try:
            first = self._read_up_to(BLOCK)
            if first and first != _ZERO_BLOCK and _is_tar_header(first):
                self.container = TAR
                self._pending = first
                self._open_member()
            else:
                self.container = BARE
                self._open_bare(first, size)
        except StemcellImageError:
            self.close()
            raise
        except READ_ERRORS as exc:
            self.close()
            raise describe_read_error(path, self.compression, exc) from None
        self._remaining = self.size

    # -- finding the disk -------------------------------------------------------------------------------------
    def _open_member(self) -> None:
        member = self._next_member()
        skipped: list[str] = []
        while member is not None and not member.isreg():
            skipped.append(f"{member.name} ({_kind(member)})")
            self._skip(member.size)
            member = self._next_member()
        if member is None:
            found = f" (it holds only {', '.join(skipped)})" if skipped else ""
            raise StemcellImageError(f"Stemcell image {self.path} contains no disk image file{found}")
        if member.size == 0:
            raise StemcellImageError(f"Stemcell image {self.path}: disk image {member.name} is empty")
        self.member_name = member.name
        self.size = member.size

    def _open_bare(self, first: bytes, size: int | None) -> None:
        self.member_name = os.path.basename(self.path)
        if not first or first == _ZERO_BLOCK:
            raise StemcellImageError(
                f"Stemcell image {self.path} contains no disk image: it is empty, an empty tar archive, or a disk "
                "whose first sector is blank (a stemcell disk has a partition table)"
            )
        head = first + self._read_up_to(HEAD_SIZE - len(first))
        fmt = detect_format(head)
        if fmt == RAW and not (has_boot_signature(head) and len(head) == HEAD_SIZE):
            raise StemcellImageError(
                f"Stemcell image {self.path} is neither a tar archive nor a disk image: no qcow2, VHD or VHDX "
                "signature and no MBR boot signature (a stemcell `image` is a tarball holding the disk, or the disk "
                "itself, optionally gzip- or bzip2-compressed)"
            )
        self._pending = head
        if size is not None:
            self.size = size
        elif self.compression == NONE:
            self.size = os.fstat(self._stream.fileno()).st_size
        else:
            self.size = self._compressed_bare_size(fmt)
        if self.size < len(self._pending):
            raise StemcellImageError(f"Stemcell image {self.path}: its {fmt} disk is shorter than its own header")

    def _compressed_bare_size(self, fmt: str) -> int:
        """A compressed bare disk's length: from a dynamic VHD's BAT when it is one, else by decoding it all once."""
        if fmt == VHD:
            self._read_up_to(1536 - len(self._pending), keep=True)  # the footer copy and the dynamic header
            need = dynamic_vhd_head_size(self._pending)
            if need is not None and need <= _HEAD_LIMIT:
                self._read_up_to(need - len(self._pending), keep=True)
                size = dynamic_vhd_file_size(self._pending)
                if size is not None:
                    return size
        elif fmt == VHDX:
            self._read_up_to(VHDX_HEAD_LIMIT - len(self._pending), keep=True)
        return count_decompressed(self.path)

    def _read_up_to(self, count: int, *, keep: bool = False) -> bytes:
        """Up to `count` more bytes from the decoder (fewer only at its end); `keep` appends them to the read-ahead."""
        chunks, got = [], 0
        while got < count:
            chunk = self._stream.read(count - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        data = b"".join(chunks)
        if keep:
            self._pending += data
        return data

    # -- data -------------------------------------------------------------------------------------------------
    def readinto(self, buffer: memoryview | bytearray) -> int:
        """Fill `buffer` with the next bytes of the disk image; short only at its end (0 once it is all read)."""
        view = memoryview(buffer)
        want = min(len(view), self._remaining)
        got = 0
        if self._pending and want:
            got = min(want, len(self._pending))
            view[:got] = self._pending[:got]
            self._pending = self._pending[got:]
        try:
            while got < want:
                n = self._stream.readinto(view[got:want])  # type: ignore[attr-defined]
                if not n:
                    raise StemcellImageError(
                        f"Stemcell image {self.path} is truncated: {self.member_name} should have {self.size} bytes, "
                        f"the {'archive' if self.container == TAR else 'data'} ends after "
                        f"{self.size - self._remaining + got}"
                    )
                got += n
        except READ_ERRORS as exc:
            raise describe_read_error(self.path, self.compression, exc) from None
        self._remaining -= got
        return got

    def finish(self) -> None:
        """After the image: a tarball may go on with directories only, a bare disk must end exactly here."""
        if self._finished:
            return
        if self._remaining:
            raise StemcellImageError(f"Internal error: {self._remaining} bytes of {self.member_name} were not read")
        try:
            if self.container == BARE:
                if self._pending or self._stream.read(1):
                    raise StemcellImageError(
                        f"Stemcell image {self.path} holds more than the {self.size} bytes its disk header describes"
                    )
            else:
                self._finish_tarball()
        except READ_ERRORS as exc:
            raise describe_read_error(self.path, self.compression, exc) from None
        self._finished = True

    def _finish_tarball(self) -> None:
        self._skip_bytes(_padding(self.size))
        while True:
            member = self._next_member()
            if member is None:
                return
            if not member.isdir():
                raise StemcellImageError(
                    f"Stemcell image {self.path} holds more than one file ({self.member_name}, {member.name}); "
                    "a stemcell image tarball must contain exactly one disk image"
                )

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> ImageStream:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- tar headers ------------------------------------------------------------------------------------------
    def _read(self, size: int) -> bytes:
        """Tar parsing reads: the read-ahead first, then the decoder."""
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data + (self._stream.read(size - len(data)) if len(data) < size else b"")
        return self._stream.read(size)

    def _next_member(self) -> tarfile.TarInfo | None:
        """The next member's header, long names and pax records applied; None at the end of the archive."""
        long_name: str | None = None
        pax: dict[str, str] = {}
        while True:
            block = self._read(BLOCK)
            if not block or block == _ZERO_BLOCK:
                return None
            if len(block) < BLOCK:
                raise StemcellImageError(f"Stemcell image {self.path} is truncated inside a tar header")
            try:
                info = tarfile.TarInfo.frombuf(block, _ENCODING, _ERRORS)
            except tarfile.HeaderError as exc:
                raise StemcellImageError(f"Stemcell image {self.path} is not a tar archive ({exc})") from None
            if info.type == tarfile.GNUTYPE_LONGNAME:
                long_name = self._read_exact(info.size).split(b"\0", 1)[0].decode(_ENCODING, _ERRORS)
                self._skip_bytes(_padding(info.size))
            elif info.type in (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE):
                try:
                    pax = _parse_pax(self._read_exact(info.size))
                except ValueError:
                    raise StemcellImageError(f"Stemcell image {self.path} has a malformed pax header") from None
                self._skip_bytes(_padding(info.size))
            elif info.type in (tarfile.XGLTYPE, tarfile.GNUTYPE_LONGLINK):
                self._skip(info.size)
            elif info.type == tarfile.GNUTYPE_SPARSE or "GNU.sparse.map" in pax or "GNU.sparse.size" in pax:
                raise StemcellImageError(
                    f"Stemcell image {self.path}: {long_name or info.name} is stored as a sparse tar member, "
                    "which is not supported; pack it without --sparse"
                )
            else:
                if long_name is not None:
                    info.name = long_name
                if "path" in pax:
                    info.name = pax["path"]
                if "size" in pax:
                    info.size = int(pax["size"])
                return info

    def _read_exact(self, size: int) -> bytes:
        data = self._read(size)
        if len(data) != size:
            raise StemcellImageError(f"Stemcell image {self.path} is truncated inside a tar header")
        return data

    def _skip(self, size: int) -> None:
        self._skip_bytes(size + _padding(size))

    def _skip_bytes(self, count: int) -> None:
        while count > 0:
            chunk = self._read(min(count, 1 << 20))
            if not chunk:
                raise StemcellImageError(f"Stemcell image {self.path} is truncated")
            count -= len(chunk)


def count_decompressed(path: str) -> int:
    """The decompressed length of `path`, by decoding it all once (no copy kept)."""
    stream, compression = open_decompressed(path)
    buf = bytearray(4 << 20)
    total = 0
    try:
        with stream:
            while n := stream.readinto(buf):  # type: ignore[attr-defined]
                total += n
    except READ_ERRORS as exc:
        raise describe_read_error(path, compression, exc) from None
    return total


def _is_tar_header(block: bytes) -> bool:
    try:
        tarfile.TarInfo.frombuf(block, _ENCODING, _ERRORS)
    except tarfile.HeaderError:
        return False
    return True


def _parse_pax(data: bytes) -> dict[str, str]:
    """pax extended header records: `<length> <key>=<value>\\n`, length counting the whole record."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos:pos + 1] != b"\0":
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        key, _, value = data[space + 1:pos + length - 1].partition(b"=")
        records[key.decode(_ENCODING, _ERRORS)] = value.decode(_ENCODING, _ERRORS)
        pos += length
    return records


def _kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "directory"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hard link"
    return "special file"
