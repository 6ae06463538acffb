"""Downloads with a mandatory checksum: on the VM (curl or wget there) or here (requests), then in place.

Either way the file lands under a temporary name, its digest is checked, and only a matching file is
renamed to its final path; a mismatch removes the download and raises, so nothing half-installed stays.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import re
import secrets
import shlex
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import requests

from inception.remote.errors import ChecksumMismatchError, RemoteError
from inception.remote.redact import redact
from inception.remote.ssh import RemoteHost

ALGORITHMS = {"sha1": 40, "sha256": 64}


def check_digest(algorithm: str, value: str) -> str:
    """The digest in lower case; refuses an unknown algorithm or a malformed value."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported checksum algorithm {algorithm!r} (use sha1 or sha256)")
    value = value.strip().lower()
    if not re.fullmatch(rf"[0-9a-f]{{{ALGORITHMS[algorithm]}}}", value):
        raise ValueError(f"{algorithm} checksum must be {ALGORITHMS[algorithm]} hex digits, got {value!r}")
    return value


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def url_basename(url: str) -> str:
    name = posixpath.basename(urlsplit(url).path)
    if not name or name in (".", ".."):
        raise ValueError(f"cannot name a file after URL {redact(url)}; give the artifact a name")
    return name


def _download_script(url: str, tmp: str) -> str:
    u, t = shlex.quote(url), shlex.quote(tmp)
    return (f"if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o {t} {u}; "
            f"elif command -v wget >/dev/null 2>&1; then wget -q -O {t} {u}; "
            "else echo 'neither curl nor wget is installed on the VM' >&2; exit 127; fi")


def fetch_on_vm(host: RemoteHost, url: str, dest: str, *, algorithm: str, expected: str, mode: int = 0o644,
                what: str | None = None) -> None:
    """Download `url` on the VM to `dest`, checked against `expected` before it gets its final name."""
    expected = check_digest(algorithm, expected)
    tmp = f"{dest}.download-{secrets.token_hex(4)}"
    host.makedirs(posixpath.dirname(dest))
    try:
        host.run(_download_script(url, tmp))
        actual = host.digest(tmp, algorithm)
        if actual != expected:
            raise ChecksumMismatchError(what or redact(url), algorithm, expected, actual or "missing")
        host.sftp.chmod(tmp, mode)
        host.sftp.posix_rename(tmp, dest)
    except BaseException:
        host.discard(tmp)
        raise


def fetch_here(url: str, cache_dir: Path, *, algorithm: str, expected: str, name: str | None = None,
               what: str | None = None, timeout: float = 60.0) -> Path:
    """Download `url` into `cache_dir` (reused when a cached copy already matches) and return its path."""
    expected = check_digest(algorithm, expected)
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / (name or url_basename(url))
    if target.is_file() and file_digest(target, algorithm) == expected:
        return target
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=cache_dir)
    digest = hashlib.new(algorithm)
    try:
        with os.fdopen(fd, "wb") as handle:
            try:
                with requests.get(url, stream=True, timeout=timeout) as response:
                    response.raise_for_status()
                    for chunk in response.iter_content(1 << 16):
                        digest.update(chunk)
                        handle.write(chunk)
            except requests.RequestException as exc:
                raise RemoteError(f"cannot download {what or 'file'} from {redact(url)}: "
                                  f"{redact(str(exc))}") from None
        if digest.hexdigest() != expected:
            raise ChecksumMismatchError(what or redact(url), algorithm, expected, digest.hexdigest())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
