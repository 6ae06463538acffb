"""The few qemu-img calls the volume writer needs for qcow2 and VHD images (package qemu-utils)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable

from cpi.stemcell.errors import StemcellImageError
from cpi.stemcell.formats import QEMU_FORMATS

_PROGRESS = re.compile(rb"\((\d+(?:\.\d+)?)/100%\)")


def qemu_img() -> str:
    path = shutil.which("qemu-img")
    if path is None:
        raise StemcellImageError(
            "qemu-img is needed to write qcow2/VHD stemcell images onto a volume; install it (Debian/Ubuntu: "
            "apt-get install qemu-utils) or use a stemcell whose image is raw"
        )
    return path


def virtual_size(path: str, fmt: str) -> int:
    """The disk size qemu-img reads from an image's header (authoritative, e.g. VHD geometry rounding)."""
    result = subprocess.run(
        [qemu_img(), "info", "--output=json", "-f", QEMU_FORMATS[fmt], path],
        capture_output=True, check=False,
    )
    if result.returncode != 0:
        raise StemcellImageError(f"qemu-img cannot read the {fmt} image: {_stderr(result.stderr)}")
    return int(json.loads(result.stdout)["virtual-size"])


def convert_to_raw(source: str, fmt: str, target: str, on_percent: Callable[[float], None] | None = None) -> None:
    """`qemu-img convert -n`: write `source` as raw onto the existing `target` (device or file of the right size).

    With -n qemu-img does not assume the target is zeroed: it writes (or write-zeroes) every range, so old data is
    overwritten. Progress (`-p`, "(x.xx/100%)") is passed to `on_percent`.
    """
    command = [qemu_img(), "convert", "-p", "-n", "-f", QEMU_FORMATS[fmt], "-O", "raw", source, target]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        pending = b""
        for chunk in iter(lambda: proc.stdout.read1(4096), b""):  # type: ignore[union-attr]
            pending += chunk
            matches = list(_PROGRESS.finditer(pending))
            if matches:
                if on_percent is not None:
                    on_percent(float(matches[-1].group(1)))
                pending = pending[matches[-1].end():]
        stderr = proc.stderr.read()
        returncode = proc.wait()
    if returncode != 0:
        raise StemcellImageError(f"qemu-img convert of the {fmt} image onto {target} failed: {_stderr(stderr)}")


def _stderr(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[-1] if text else "no error message"
