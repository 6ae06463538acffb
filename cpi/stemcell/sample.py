"""Synthetic stemcell images: mostly-empty raw disks with pseudo-random data in chosen places, packed the way a
stemcell's `image` file is (a gzipped tarball holding `root.img`).

Used by the lifecycle check, the tests and the stemcell-copy benchmark; the disks are generated on the fly, so a
1 GiB image never needs 1 GiB on disk.
"""
from __future__ import annotations

import hashlib
import io
import random
import tarfile
from collections.abc import Iterable, Sequence
from typing import BinaryIO

MiB = 1 << 20


class SampleDisk(io.RawIOBase):
    """A raw disk image of `size` bytes: zeros, except pseudo-random bytes in `extents` ((offset, length) pairs).

    The byte at offset p of an extent is a function of (seed, p) only, so any two readers of the same disk see the
    same bytes whatever their read sizes; the pattern (a pool of a little more than 1 MiB) defeats gzip's 32 KiB
    window, so data extents stay incompressible like real filesystem contents.
    """

    _POOL_SIZE = MiB + 4099

    def __init__(self, size: int, extents: Iterable[tuple[int, int]] = (), seed: int = 0) -> None:
        super().__init__()
        self.size = size
        self.extents = sorted((off, min(length, size - off)) for off, length in extents if off < size)
        self.seed = seed
        self._pool = random.Random(seed).randbytes(self._POOL_SIZE)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        count = min(len(view), self.size - self._pos)
        start, end = self._pos, self._pos + count
        view[:count] = bytes(count)
        for ext_start, length in self.extents:
            lo, hi = max(start, ext_start), min(end, ext_start + length)
            while lo < hi:
                pool_at = lo % self._POOL_SIZE
                n = min(hi - lo, self._POOL_SIZE - pool_at)
                view[lo - start:lo - start + n] = self._pool[pool_at:pool_at + n]
                lo += n
        self._pos = end
        return count

    def sha256(self) -> str:
        """Digest of the whole disk (read from a fresh twin, so this reader's position is untouched)."""
        twin = SampleDisk(self.size, self.extents, self.seed)
        digest = hashlib.sha256()
        for chunk in iter(lambda: twin.read(8 * MiB), b""):
            digest.update(chunk)
        return digest.hexdigest()


def spread_extents(size: int, data_bytes: int, pieces: int) -> list[tuple[int, int]]:
    """`pieces` equal extents totalling `data_bytes`, spread evenly over a disk of `size` bytes (MiB-aligned)."""
    piece = max(data_bytes // pieces, 1)
    stride = size // pieces
    return [((i * stride) // MiB * MiB, piece) for i in range(pieces)]


def write_image_tarball(
    dest: str,
    members: Sequence[tuple[str, BinaryIO, int]],
    *,
    compresslevel: int = 6,
    gzip: bool = True,
) -> None:
    """Write a stemcell `image` tarball holding `members` ((name, reader, size) triples), gzipped by default."""
    mode = "w:gz" if gzip else "w"
    options = {"compresslevel": compresslevel} if gzip else {}
    with tarfile.open(dest, mode, format=tarfile.GNU_FORMAT, **options) as tar:  # type: ignore[call-overload]
        for name, reader, size in members:
            info = tarfile.TarInfo(name)
            info.size = size
            info.mode = 0o644
            tar.addfile(info, reader)
