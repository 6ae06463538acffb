"""The few qemu-img calls the stemcell code needs (package qemu-utils): the volume writer's conversion of qcow2, VHD
and VHDX images to raw, and format conversion for an upload to a hypervisor that does not take the image's format."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable

from cpi.stemcell.errors import StemcellImageError
from cpi.stemcell.formats import QEMU_FORMATS, VHD

_PROGRESS = re.compile(rb"\((\d+(?:\.\d+)?)/100%\)")


def qemu_img() -> str:
    path = shutil.which("qemu-img")
    if path is None:
        raise StemcellImageError(
            "qemu-img is needed to convert qcow2/VHD/VHDX stemcell images (onto a volume, or to the format the "
            "hypervisor takes); install it (Debian/Ubuntu: apt-get install qemu-utils) or use a stemcell whose image "
            "needs no conversion"
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


def convert(source: str, fmt: str, dest: str, dest_fmt: str) -> None:
    """`qemu-img convert` of `source` into a new file `dest` in another format (a VHD is made dynamic, as
    bosh-linux-stemcell-builder makes its CloudStack VHDs)."""
    options = ["-o", "subformat=dynamic"] if dest_fmt == VHD else []
    command = [qemu_img(), "convert", "-f", QEMU_FORMATS[fmt], "-O", QEMU_FORMATS[dest_fmt], *options, source, dest]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        raise StemcellImageError(f"qemu-img convert of the {fmt} image to {dest_fmt} failed: {_stderr(result.stderr)}")


def _stderr(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[-1] if text else "no error message"
