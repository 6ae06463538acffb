"""Helpers for the stemcell image tests: building real tarballs, garbage targets, digests."""
from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cpi.stemcell.sample import MiB, write_image_tarball

DISK_SIZE = 6 * MiB + 64 * 1024  # not a multiple of the 4 MiB chunk, so the last chunk is partial
DATA_EXTENTS = [(0, 300_000), (2 * MiB + 4096, 70_000), (5 * MiB + 512, 65_536 * 3 + 17)]


@dataclass(frozen=True)
class Images:
    raw_disk: Path  # the raw disk itself, for comparisons
    raw_sha256: str
    raw: Path  # stemcell `image` tarballs
    raw_plain_tar: Path
    qcow2: Path
    vhd: Path
    vhd_fixed: Path
    qcow2_file: Path  # the inner images themselves
    vhd_file: Path
    vhd_fixed_file: Path


def sha256_file(path: Path, length: int | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        remaining = length if length is not None else float("inf")
        while remaining > 0:
            chunk = handle.read(int(min(1 << 20, remaining)))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def pack(dest: Path, *members: tuple[str, Path], gzip: bool = True) -> Path:
    """A stemcell `image` tarball holding these files."""
    readers = [(name, open(path, "rb"), path.stat().st_size) for name, path in members]
    try:
        write_image_tarball(str(dest), readers, gzip=gzip)
    finally:
        for _, reader, _ in readers:
            reader.close()
    return dest


def garbage_file(path: Path, size: int) -> Path:
    """A file full of non-zero bytes: a target that held old data."""
    block = (bytes(range(1, 256)) * 4200)[: 1 << 20]
    with open(path, "wb") as handle:
        for _ in range(size // len(block)):
            handle.write(block)
        handle.write(block[: size % len(block)])
    return path


def qemu(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


