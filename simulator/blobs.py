"""Content-addressed bytes of templates, snapshots and volumes: `<state dir>/blobs/<sha256>`.

A volume's *content* is its data up to the last non-zero byte (a new volume is all zeros, so its content is
empty); a snapshot or a template made from a volume holds exactly that content. Blobs are immutable and shared:
a template copied to another zone, or a volume created from a snapshot, points at the same file.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from .context import SimContext

CHUNK = 1024 * 1024
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256

    def temp_file(self) -> tuple[BinaryIO, Path]:
        """An open, empty file in the blob dir, to stream a download or upload into before `adopt`."""
        fd, name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        return os.fdopen(fd, "wb"), Path(name)

    def adopt(self, path: Path, sha256: str) -> str:
        """Move a finished file (whose digest the caller computed while writing it) into the store."""
        target = self.path(sha256)
        if target.exists():
            path.unlink()
        else:
            os.replace(path, target)
        return sha256

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if not self.path(sha).exists():
            fh, tmp = self.temp_file()
            with fh:
                fh.write(data)
            self.adopt(tmp, sha)
        return sha

    def put_content_of(self, path: Path) -> tuple[str, int]:
        """Store the content of a (possibly sparse) volume file: its bytes up to the last non-zero byte."""
        length = content_length(path)
        digest = hashlib.sha256()
        fh, tmp = self.temp_file()
        with fh, open(path, "rb") as src:
            remaining = length
            while remaining:
                chunk = src.read(min(CHUNK, remaining))
                if not chunk:
                    break
                digest.update(chunk)
                fh.write(chunk)
                remaining -= len(chunk)
        return self.adopt(tmp, digest.hexdigest()), length

    def size(self, sha256: str | None) -> int:
        if not sha256 or not self.path(sha256).exists():
            return 0
        return self.path(sha256).stat().st_size

    def write_into(self, sha256: str | None, target: Path, size: int) -> None:
        """Make `target` a sparse file of `size` bytes that starts with the blob's bytes."""
        with open(target, "wb") as out:
            if sha256 and self.path(sha256).exists():
                with open(self.path(sha256), "rb") as src:
                    shutil.copyfileobj(src, out, CHUNK)
            out.truncate(max(size, out.tell()))


def content_length(path: Path) -> int:
    """Offset just past the last non-zero byte of a file, finding data extents with SEEK_DATA/SEEK_HOLE so a
    sparse multi-gigabyte file costs only its written parts."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fd = fh.fileno()
        extents: list[tuple[int, int]] = []
        offset = 0
        try:
            while offset < size:
                start = os.lseek(fd, offset, os.SEEK_DATA)
                stop = os.lseek(fd, start, os.SEEK_HOLE)
                extents.append((start, stop))
                offset = stop
        except OSError:  # ENXIO: no more data after offset
            pass
        for start, stop in reversed(extents):
            pos = stop
            while pos > start:
                block = min(CHUNK, pos - start)
                fh.seek(pos - block)
                data = fh.read(block)
                stripped = data.rstrip(b"\0")
                if stripped:
                    return pos - block + len(stripped)
                pos -= block
    return 0


def blobs_of(sim: "SimContext") -> BlobStore:
    """The simulator's blob store (in the state dir; a temporary dir for a simulator without one)."""
    store = sim.__dict__.get("_blob_store")
    if store is None:
        state_dir = sim.options.state_dir
        root = (state_dir if state_dir is not None else Path(tempfile.mkdtemp(prefix="sim-blobs-"))) / "blobs"
        store = sim.__dict__.setdefault("_blob_store", BlobStore(root))
    return store
