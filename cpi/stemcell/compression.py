"""The decompressing stream under a stemcell `image` file: gzip, bzip2 or none, recognised by magic bytes.

bosh-linux-stemcell-builder's CloudStack stage (`prepare_vhdx_image_stemcell/apply.sh`) writes `image` as the bzip2
of a dynamic VHD; older CloudStack stemcells (and other infrastructures' stages) write a gzipped tarball. Decoders:
- gzip: ISA-L (`isal.igzip`) when importable, zlib otherwise;
- bzip2: `indexed_bzip2` (C++, decodes blocks on every core) when importable, the stdlib `bz2` (libbz2) otherwise.
  bench/stemcell_bzip2.py measures both against `bzip2 -dc` (docs/performance.md).
"""
from __future__ import annotations

import bz2
import gzip
import os
import zlib
from typing import BinaryIO

from cpi.stemcell.errors import StemcellImageError

GZIP, BZIP2, NONE = "gzip", "bzip2", "none"

_GZIP_MAGIC = b"\x1f\x8b"
# "BZh" + block size digit, then a block header (pi) or the end-of-stream marker (sqrt(pi)) of an empty stream.
_BZIP2_MAGIC = b"BZh"
_BZIP2_NEXT = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")

try:  # ISA-L's inflater is several times faster than zlib's; it stays optional (zlib is the fallback).
    from isal import igzip as _igzip
    from isal import isal_zlib as _isal_zlib

    _INFLATE_ERRORS: tuple[type[BaseException], ...] = (zlib.error, _isal_zlib.error)
except ImportError:  # pragma: no cover - exercised only where python-isal is missing
    _igzip = None
    _INFLATE_ERRORS = (zlib.error,)

try:  # parallel bzip2 decoding; the stdlib's single-threaded libbz2 is the fallback
    import indexed_bzip2 as _ibz2
except ImportError:  # pragma: no cover - exercised only where indexed_bzip2 is missing
    _ibz2 = None

#: Exceptions the decoders and the file raise for damaged, truncated or unreadable input. indexed_bzip2 reports
#: corrupt data as ValueError/RuntimeError.
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, ValueError, RuntimeError, *_INFLATE_ERRORS)

INFLATER = "isal" if _igzip is not None else "zlib"
BUNZIPPER = "indexed_bzip2" if _ibz2 is not None else "bz2"
#: Threads indexed_bzip2 decodes with; None: one per core.
BZIP2_THREADS: int | None = None


def detect(head: bytes) -> str:
    """The compression of a file from its first 10 bytes."""
    if head.startswith(_GZIP_MAGIC):
        return GZIP
    if head.startswith(_BZIP2_MAGIC) and head[3:4] in b"123456789" and head[4:10] in _BZIP2_NEXT:
        return BZIP2
    return NONE


def decoder(compression: str) -> str:
    """The name of the decoder used for a compression (reported in logs and benchmarks)."""
    return {GZIP: INFLATER, BZIP2: BUNZIPPER}.get(compression, NONE)


def open_decompressed(path: str) -> tuple[BinaryIO, str]:
    """The decompressed bytes of `path` as a stream, and its compression (gzip, bzip2 or none)."""
    try:
        with open(path, "rb") as raw:
            compression = detect(raw.read(10))
        if compression == NONE:
            return open(path, "rb"), NONE
        if compression == GZIP:
            stream = _igzip.open(path, "rb") if _igzip is not None else gzip.open(path, "rb")
            return stream, GZIP  # type: ignore[return-value]
        if _ibz2 is not None:
            threads = BZIP2_THREADS or os.cpu_count() or 1
            return _ibz2.open(path, parallelization=threads), BZIP2  # type: ignore[return-value]
        return bz2.open(path, "rb"), BZIP2  # type: ignore[return-value]
    except OSError as exc:
        raise StemcellImageError(f"Cannot read stemcell image {path}: {exc.strerror or exc}") from None


def describe_read_error(path: str, compression: str, exc: BaseException) -> StemcellImageError:
    """A clear error for a decode/read failure (truncated or corrupt compressed data, I/O error)."""
    if isinstance(exc, EOFError):
        return StemcellImageError(f"Stemcell image {path} is truncated: the compressed data ends early")
    if isinstance(exc, OSError) and exc.strerror:
        return StemcellImageError(f"Cannot read stemcell image {path}: {exc.strerror}")
    if compression != NONE:
        detail = "" if str(exc) in ("", "std::exception") else f" ({exc})"
        return StemcellImageError(f"Stemcell image {path} is not a valid {compression} file: the compressed data is "
                                  f"damaged or truncated{detail}")
    return StemcellImageError(f"Cannot read stemcell image {path}: {exc}")
