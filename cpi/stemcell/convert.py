"""A stemcell's disk in another format, for the modes that hand CloudStack the file itself (registerTemplate from a
URL, direct upload) when the hypervisor does not deploy the stemcell's own format (a VHDX or qcow2 for XenServer, a
VHD for KVM...).

qemu-img must seek in its input, so the disk is first spooled to a sparse temporary file, then `qemu-img convert`
writes the target format into a second one, which is what gets uploaded; both go when the upload is done.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from cpi.stemcell import qemu
from cpi.stemcell.writer import spooled_image


@contextmanager
def converted_image(image_path: str, fmt: str, *, size: int | None = None, tmp_dir: str | None = None) -> Iterator[str]:
    """The disk in the stemcell `image` file at `image_path`, converted to `fmt` (raw, qcow2, vhd, vhdx), as the
    path of a temporary file removed on exit."""
    handle, out = tempfile.mkstemp(prefix="stemcell-", suffix=f".{fmt}", dir=tmp_dir)
    os.close(handle)
    try:
        with spooled_image(image_path, size=size, tmp_dir=tmp_dir) as (spool, source_fmt):
            qemu.convert(spool, source_fmt, out, fmt)
        yield out
    finally:
        os.unlink(out)
