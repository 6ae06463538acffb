"""The wheels vendored in the `cloudstack_cpi` package: the CPI itself and what it imports at run time.

- The CPI's own wheel is built here, deterministically (fixed zip times, sorted), from the `cpi` package without its
  operator-side tooling (the release builder, the lifecycle check driver): `cloudstack-cpi`, pure Python, requiring only the runtime dependencies below.
- Runtime dependencies are what cpi/ imports: cs and requests (API calls) and jsonschema (config validation), with
  their dependency closures. typer, rich, paramiko, pyyaml are the inception tool's, not the CPI's.
  jsonschema's rpds-py is compiled, so wheels are vendored for CPython 3.10 to 3.14 on manylinux2014 x86_64
  (glibc >= 2.17: any current Ubuntu). isal (fast stemcell inflate) and indexed_bzip2 (parallel stemcell bunzip) are
  optional: the packaging script installs each when a wheel matches the compiling Python, and the CPI falls back to
  zlib / the stdlib bz2 otherwise.
- pip's own wheel: the packaging script runs pip from it, so the compiling machine needs no python3-pip.

Downloads go through `pip download` into a cache directory; a small lock file there records a complete set, so later
builds (and tests) need neither pip nor the network. `offline` forbids the network entirely.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import cpi
from cpi.release.errors import ReleaseBuildError
from cpi.release.version import PROJECT

CPI_DIST = "cloudstack-cpi"
RUNTIME = ("cs", "requests", "jsonschema")
OPTIONAL = ("isal", "indexed_bzip2")
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
PLATFORMS = ("manylinux_2_17_x86_64", "manylinux2014_x86_64")
#: Entries of cpi/ that are operator-side tooling, not the CPI: left out of the runtime wheel (they may import the
#: inception tool's dependencies, e.g. pyyaml).
TOOLING = ("release", "lifecycle.py")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_SAVED = re.compile(r"^\s*(?:Saved|File was already downloaded)\s+(.+\.whl)\s*$", re.MULTILINE)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")

Log = Callable[[str], None]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cloudstack-inception" / "wheels"


def project_requirements(names: tuple[str, ...]) -> list[str]:
    """The project's own requirement strings (with their version bounds) for these distribution names."""
    wanted = {_normalise(n) for n in names}
    found = []
    for requirement in importlib.metadata.requires(PROJECT) or []:
        match = _NAME.match(requirement)
        if match and _normalise(match.group(0)) in wanted and "extra ==" not in requirement:
            found.append(requirement)
    missing = wanted - {_normalise(_NAME.match(r).group(0)) for r in found}  # type: ignore[union-attr]
    if missing:
        raise ReleaseBuildError(f"pyproject.toml does not list {', '.join(sorted(missing))} as a dependency")
    return found


def collect_dependency_wheels(cache: Path, *, offline: bool = False, log: Log = lambda _: None) -> list[Path]:
    """Wheels of pip, the runtime dependencies (for every target Python) and, where they exist, the optional ones."""
    cache.mkdir(parents=True, exist_ok=True)
    requirements = project_requirements(RUNTIME)
    optional = project_requirements(OPTIONAL)
    key = hashlib.sha256(json.dumps([requirements, optional, PYTHONS, PLATFORMS]).encode()).hexdigest()[:16]
    lock = cache / f"wheelset-{key}.json"
    if lock.exists():
        names = json.loads(lock.read_text())
        if all((cache / name).is_file() for name in names):
            return [cache / name for name in names]
    found = set(_download(cache, ["--no-deps", "pip"], offline, log))
    for version in PYTHONS:
        target = ["--python-version", version, "--implementation", "cp", "--abi", "cp" + version.replace(".", "")]
        for platform in PLATFORMS:
            target += ["--platform", platform]
        log(f"resolving runtime wheels for CPython {version}")
        found.update(_download(cache, [*target, *requirements], offline, log))
        for requirement in optional:
            try:
                found.update(_download(cache, [*target, requirement], offline, log))
            except ReleaseBuildError:
                log(f"no {requirement} wheel for CPython {version}: that Python will use the stdlib fallback")
    names = sorted(path.name for path in found)
    lock.write_text(json.dumps(names))
    return [cache / name for name in names]


def _download(cache: Path, args: list[str], offline: bool, log: Log) -> list[Path]:
    """`pip download` into the cache, from the cache alone first, then (unless offline) from the package index."""
    base = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--only-binary=:all:",
            "--dest", str(cache)]
    attempts = [["--no-index", "--find-links", str(cache)]] + ([] if offline else [[]])
    result = None
    for extra in attempts:
        result = subprocess.run([*base, *extra, *args], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return [Path(line.strip()) for line in _SAVED.findall(result.stdout)]
    assert result is not None
    detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
    where = "the wheel cache (offline)" if offline else "the wheel cache or the package index"
    raise ReleaseBuildError(f"pip download {' '.join(args)} failed from {where}: {detail}")


def build_cpi_wheel(dest_dir: Path, version: str) -> Path:
    """The CPI as a pure-Python wheel (PEP 427), byte-for-byte reproducible for the same sources and version."""
    package = Path(cpi.__file__).resolve().parent
    files = sorted(
        path for path in package.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix != ".pyc"
        and path.relative_to(package).parts[0] not in TOOLING
    )
    dist_info = f"cloudstack_cpi-{version}.dist-info"
    requirements = "".join(f"Requires-Dist: {r}\n" for r in project_requirements(RUNTIME))
    meta = {
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {CPI_DIST}\nVersion: {version}\n"
            "Summary: BOSH CPI for Apache CloudStack (runtime of the cloudstack_cpi release job)\n"
            f"Requires-Python: >=3.10\n{requirements}"
        ).encode(),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: cloudstack-inception release builder\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ).encode(),
    }
    contents = [(f"cpi/{path.relative_to(package).as_posix()}", path.read_bytes()) for path in files]
    contents += sorted(meta.items())
    record = "".join(f"{name},sha256={_b64(hashlib.sha256(data).digest())},{len(data)}\n" for name, data in contents)
    contents.append((f"{dist_info}/RECORD", (record + f"{dist_info}/RECORD,,\n").encode()))
    wheel = dest_dir / f"cloudstack_cpi-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return wheel


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
