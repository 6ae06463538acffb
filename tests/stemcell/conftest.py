"""Real stemcell image tarballs, built once per session: a small mostly-empty raw disk, and the same disk as qcow2,
dynamic VHD and fixed VHD made by the real qemu-img."""
from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from cpi.stemcell.sample import SampleDisk
from tests.stemcell.stemcell_images import (
    COMPRESSIONS,
    CONTAINERS,
    DATA_EXTENTS,
    DISK_SIZE,
    FORMATS,
    Images,
    layout,
    pack,
    qemu,
    sha256_file,
)


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    assert shutil.which("qemu-img"), "qemu-img is required (scripts/test.sh installs qemu-utils)"
    root = tmp_path_factory.mktemp("stemcell-images")
    disk = SampleDisk(DISK_SIZE, DATA_EXTENTS, seed=7)
    raw_disk = root / "root.img"
    with open(raw_disk, "wb") as handle:
        shutil.copyfileobj(disk, handle)
        handle.seek(510)
        handle.write(b"\x55\xaa")
    qcow2_file, vhd_file, vhd_fixed_file = root / "root.qcow2", root / "root.vhd", root / "fixed.vhd"
    vhdx_file = root / "root.vhdx"
    qemu("convert", "-f", "raw", "-O", "qcow2", str(raw_disk), str(qcow2_file))
    qemu("convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic", str(raw_disk), str(vhd_file))
    qemu("convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", str(raw_disk), str(vhd_fixed_file))
    qemu("convert", "-f", "raw", "-O", "vhdx", str(raw_disk), str(vhdx_file))
    disks = {"raw": raw_disk, "qcow2": qcow2_file, "vhd": vhd_file, "vhdx": vhdx_file}
    layouts = {(c, k, f): layout(root, disks[f], c, k, f) for c in COMPRESSIONS for k in CONTAINERS for f in FORMATS}
    return Images(
        raw_disk=raw_disk,
        raw_sha256=sha256_file(raw_disk),
        raw=pack(root / "raw-image", ("root.img", raw_disk)),
        raw_plain_tar=pack(root / "raw-image.tar", ("root.img", raw_disk), gzip=False),
        qcow2=pack(root / "qcow2-image", ("root.img", qcow2_file)),
        vhd=pack(root / "vhd-image", ("root.vhd", vhd_file)),
        vhd_fixed=pack(root / "vhd-fixed-image", ("root.vhd", vhd_fixed_file)),
        qcow2_file=qcow2_file,
        vhd_file=vhd_file,
        vhd_fixed_file=vhd_fixed_file,
        vhdx_file=vhdx_file,
        layouts=layouts,
    )


@pytest.fixture
def tar_with(tmp_path: Path):
    """Build a tarball from (name, bytes | None) entries; None makes a directory."""

    def build(entries: list[tuple[str, bytes | None]], fmt: int = tarfile.GNU_FORMAT) -> Path:
        dest = tmp_path / "image"
        with tarfile.open(dest, "w:gz", format=fmt) as tar:
            for name, data in entries:
                info = tarfile.TarInfo(name)
                if data is None:
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                else:
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        return dest

    return build
