"""Helpers for the stemcell image tests: building real tarballs, garbage targets, digests."""
from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
from dataclasses import dataclass, field
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
    vhdx_file: Path
    #: every layout: (compression, container, format) -> `image` file; see `layouts`
    layouts: dict[tuple[str, str, str], Path] = field(default_factory=dict)

    def disk_file(self, fmt: str) -> Path:
        """The disk image file a layout packs."""
        return {"raw": self.raw_disk, "qcow2": self.qcow2_file, "vhd": self.vhd_file, "vhdx": self.vhdx_file}[fmt]


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


COMPRESSIONS = ("gzip", "bzip2", "none")
CONTAINERS = ("tar", "bare")
FORMATS = ("raw", "qcow2", "vhd", "vhdx")


def compress(source: Path, dest: Path, compression: str) -> Path:
    """`dest` = `source` compressed: bzip2 by the real `bzip2 -c` (as bosh-linux-stemcell-builder's CloudStack stage
    does), gzip by Python's gzip, none as a copy."""
    if compression == "bzip2":
        with open(dest, "wb") as out:
            subprocess.run(["bzip2", "-c", str(source)], stdout=out, check=True)
    elif compression == "gzip":
        with open(source, "rb") as src, gzip.open(dest, "wb", compresslevel=1) as out:
            shutil.copyfileobj(src, out, 1 << 20)
    else:
        shutil.copyfile(source, dest)
    return dest


def layout(root: Path, disk: Path, compression: str, container: str, fmt: str) -> Path:
    """A stemcell `image` file in one layout: the disk, in a tarball or bare, then compressed (or not)."""
    name = root / f"image-{compression}-{container}-{fmt}"
    if container == "tar":
        inner = pack(root / f"tar-{fmt}", (f"root.{fmt}", disk), gzip=False)
    else:
        inner = disk
    return compress(inner, name, compression)



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


