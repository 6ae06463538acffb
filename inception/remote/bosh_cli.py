"""Install the `bosh` CLI on the inception VM from a configured URL, its sha256 checked.

The CLI is a single binary, so the installed file's sha256 is also the idempotency check: a re-run finds
the right binary in place and does nothing.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from inception.remote.errors import RemoteError
from inception.remote.fetch import check_digest, fetch_here, fetch_on_vm
from inception.remote.ssh import RemoteHost

DEFAULT_PATH = "bin/bosh"
"""Relative to the login user's home: on Ubuntu, ~/bin is on a login shell's PATH, so `inception ssh`
users can type `bosh`."""

DownloadMode = Literal["vm", "local"]


@dataclass(frozen=True)
class BoshCliSource:
    url: str
    sha256: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", check_digest("sha256", self.sha256))


def install_bosh_cli(host: RemoteHost, source: BoshCliSource, *, path: str | None = None,
                     download: DownloadMode = "vm", cache_dir: Path | None = None,
                     on_step: Callable[[str], None] | None = None) -> str:
    """Make sure the VM has this exact `bosh` binary; returns its absolute path.

    `download="vm"` fetches it on the VM with curl/wget; `"local"` fetches it here (into `cache_dir`) and
    uploads it, for VMs without internet access. Both verify the sha256 before the binary is installed.
    """
    step = on_step or (lambda _message: None)
    dest = path or posixpath.join(host.home, DEFAULT_PATH)
    if host.digest(dest) == source.sha256:
        step(f"bosh CLI already installed at {dest}")
        return dest
    host.makedirs(posixpath.dirname(dest), mode=0o755)
    if download == "vm":
        step("downloading the bosh CLI on the inception VM")
        fetch_on_vm(host, source.url, dest, algorithm="sha256", expected=source.sha256, mode=0o755,
                    what="bosh CLI")
    elif download == "local":
        if cache_dir is None:
            raise ValueError("download='local' needs a cache_dir")
        step("downloading the bosh CLI here")
        local = fetch_here(source.url, cache_dir, algorithm="sha256", expected=source.sha256, what="bosh CLI")
        step("uploading the bosh CLI to the inception VM")
        host.put(local, dest, mode=0o755)
    else:
        raise ValueError(f"download must be 'vm' or 'local', not {download!r}")
    version = host.run([dest, "--version"], check=False)
    if not version.ok:
        raise RemoteError(f"the installed bosh CLI at {dest} does not run (exit status {version.exit_status}): "
                          f"{version.stderr.strip()[-300:]}")
    step(f"installed bosh CLI {version.stdout.splitlines()[0] if version.stdout else ''}".rstrip())
    return dest
