"""Deterministic gzipped tarballs and the digests/fingerprints BOSH keeps for them.

Same inputs, same bytes: entries sorted, owner root, mtime 0, fixed modes, gzip header without name or time. So a
rebuilt release of unchanged sources has the same sha1s and fingerprints (create-env then reuses its compiled
package).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    """A file of an archive: its bytes come from `data` or from `source`."""

    path: str  # relative, "/"-separated
    data: bytes | None = None
    source: Path | None = None
    executable: bool = False

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.source is not None
        return self.source.read_bytes()

    @property
    def mode(self) -> int:
        return 0o755 if self.executable else 0o644


def write_tgz(dest: Path, entries: Iterable[Entry]) -> None:
    """Write `entries` (plus their parent directories) as `./`-prefixed members, like `tar czf x.tgz -C dir .`."""
    files = sorted(entries, key=lambda e: e.path)
    dirs = sorted({"/".join(e.path.split("/")[:i]) for e in files for i in range(1, e.path.count("/") + 1)})
    with open(dest, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            tar.addfile(_info("./", tarfile.DIRTYPE, 0o755))
            for path in dirs:
                tar.addfile(_info(f"./{path}/", tarfile.DIRTYPE, 0o755))
            for entry in files:
                data = entry.read()
                info = _info(f"./{entry.path}", tarfile.REGTYPE, entry.mode)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def _info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def release_digest(path: Path, sha2: bool) -> str:
    """The `sha1` field of release.MF: plain sha1 hex, or `sha256:<hex>` (bosh create-release --sha2)."""
    return f"sha256:{file_digest(path, 'sha256')}" if sha2 else file_digest(path, "sha1")


def fingerprint(entries: Iterable[Entry], extra: Iterable[str] = (), modeless: Collection[str] = ()) -> str:
    """A content fingerprint in bosh-cli's "v2" shape: for each file, sorted by path, its path, digest and git-style
    mode (omitted for the paths in `modeless`, as bosh does for a package's `packaging` script), then the sorted
    extra chunks (a package's dependencies); sha256 of the whole."""
    chunks = ["v2"]
    for entry in sorted(entries, key=lambda e: e.path):
        digest = "sha256:" + hashlib.sha256(entry.read()).hexdigest()
        mode = "" if entry.path in modeless else ("100755" if entry.executable else "100644")
        chunks.append(f"{entry.path}{digest}{mode}")
    extra = sorted(extra)
    if extra:
        chunks.append(",".join(extra))
    return hashlib.sha256("".join(chunks).encode()).hexdigest()
