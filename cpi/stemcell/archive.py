"""One sequential pass over a stemcell `image` tarball and its single disk image member.

The tarball is read as a stream (never extracted): gzip is inflated with ISA-L (`isal.igzip`) when it is importable,
zlib otherwise; a plain (uncompressed) tar is accepted too. Headers are decoded with `tarfile.TarInfo.frombuf`, but the
member's data is read straight from the inflater into the caller's buffer: tarfile's own stream reader copies every
byte several times and costs more than the inflate itself.
"""
from __future__ import annotations

import gzip
import tarfile
import zlib
from types import TracebackType
from typing import BinaryIO

from cpi.stemcell.errors import StemcellImageError

BLOCK = tarfile.BLOCKSIZE
_ZERO_BLOCK = bytes(BLOCK)
_GZIP_MAGIC = b"\x1f\x8b"
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"

try:  # ISA-L's inflater is several times faster than zlib's; it stays optional (zlib is the fallback).
    from isal import igzip as _igzip
    from isal import isal_zlib as _isal_zlib

    _INFLATE_ERRORS: tuple[type[BaseException], ...] = (zlib.error, _isal_zlib.error)
except ImportError:  # pragma: no cover - exercised only where python-isal is missing
    _igzip = None
    _INFLATE_ERRORS = (zlib.error,)

#: Exceptions the inflater and the file raise for damaged, truncated or unreadable input.
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, *_INFLATE_ERRORS)

INFLATER = "isal" if _igzip is not None else "zlib"


def open_stream(path: str) -> BinaryIO:
    """The tar stream inside `path`: inflated when the file is gzip, as-is when it is a plain tar."""
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise StemcellImageError(f"Cannot read stemcell image {path}: {exc.strerror}") from None
    try:
        is_gzip = raw.read(2) == _GZIP_MAGIC
        if not is_gzip:
            raw.seek(0)
            return raw
    except OSError as exc:
        raw.close()
        raise StemcellImageError(f"Cannot read stemcell image {path}: {exc.strerror}") from None
    raw.close()  # reopened by the inflater, which then owns (and closes) its file
    if _igzip is not None:
        return _igzip.open(path, "rb")  # type: ignore[return-value]
    return gzip.open(path, "rb")  # type: ignore[return-value]


def describe_read_error(path: str, exc: BaseException) -> StemcellImageError:
    """A clear error for an inflate/read failure (truncated gzip, corrupt deflate data, I/O error)."""
    if isinstance(exc, EOFError):
        return StemcellImageError(f"Stemcell image {path} is truncated: the compressed data ends early")
    if isinstance(exc, gzip.BadGzipFile) or isinstance(exc, _INFLATE_ERRORS):
        return StemcellImageError(f"Stemcell image {path} is not a valid gzip file ({exc})")
    if isinstance(exc, OSError) and exc.strerror:
        return StemcellImageError(f"Cannot read stemcell image {path}: {exc.strerror}")
    return StemcellImageError(f"Cannot read stemcell image {path}: {exc}")


def _padding(size: int) -> int:
    return -size % BLOCK


class ImageTarball:
    """The single disk image in a stemcell `image` tarball, read once, front to back.

    Opening finds the first regular file (directories are skipped); `readinto` streams its bytes; `finish` consumes
    the rest of the archive and fails when it holds another file (a stemcell image has exactly one).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._stream = open_stream(path)
        self._remaining = 0
        self._finished = False
        try:
            member = self._next_member()
            skipped: list[str] = []
            while member is not None and not member.isreg():
                skipped.append(f"{member.name} ({_kind(member)})")
                self._skip(member.size)
                member = self._next_member()
        except StemcellImageError:
            self.close()
            raise
        except READ_ERRORS as exc:
            self.close()
            raise describe_read_error(path, exc) from None
        if member is None:
            self.close()
            found = f" (it holds only {', '.join(skipped)})" if skipped else ""
            raise StemcellImageError(f"Stemcell image {path} contains no disk image file{found}")
        if member.size == 0:
            self.close()
            raise StemcellImageError(f"Stemcell image {path}: disk image {member.name} is empty")
        self.member_name = member.name
        self.size = member.size
        self._remaining = member.size

    # -- data -------------------------------------------------------------------------------------------------
    def readinto(self, buffer: memoryview | bytearray) -> int:
        """Fill `buffer` with the next bytes of the disk image; short only at its end (0 once it is all read)."""
        view = memoryview(buffer)
        want = min(len(view), self._remaining)
        got = 0
        try:
            while got < want:
                n = self._stream.readinto(view[got:want])  # type: ignore[attr-defined]
                if not n:
                    raise StemcellImageError(
                        f"Stemcell image {self.path} is truncated: {self.member_name} should have {self.size} bytes, "
                        f"the archive ends after {self.size - self._remaining + got}"
                    )
                got += n
        except READ_ERRORS as exc:
            raise describe_read_error(self.path, exc) from None
        self._remaining -= got
        return got

    def finish(self) -> None:
        """After the image: skip its padding and check that nothing but directories follows (end of archive)."""
        if self._finished:
            return
        if self._remaining:
            raise StemcellImageError(f"Internal error: {self._remaining} bytes of {self.member_name} were not read")
        try:
            self._skip_bytes(_padding(self.size))
            while True:
                member = self._next_member()
                if member is None:
                    break
                if not member.isdir():
                    raise StemcellImageError(
                        f"Stemcell image {self.path} holds more than one file ({self.member_name}, {member.name}); "
                        "a stemcell image tarball must contain exactly one disk image"
                    )
        except READ_ERRORS as exc:
            raise describe_read_error(self.path, exc) from None
        self._finished = True

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> ImageTarball:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- tar headers ------------------------------------------------------------------------------------------
    def _next_member(self) -> tarfile.TarInfo | None:
        """The next member's header, long names and pax records applied; None at the end of the archive."""
        long_name: str | None = None
        pax: dict[str, str] = {}
        while True:
            block = self._stream.read(BLOCK)
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
        data = self._stream.read(size)
        if len(data) != size:
            raise StemcellImageError(f"Stemcell image {self.path} is truncated inside a tar header")
        return data

    def _skip(self, size: int) -> None:
        self._skip_bytes(size + _padding(size))

    def _skip_bytes(self, count: int) -> None:
        while count > 0:
            chunk = self._stream.read(min(count, 1 << 20))
            if not chunk:
                raise StemcellImageError(f"Stemcell image {self.path} is truncated")
            count -= len(chunk)


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
