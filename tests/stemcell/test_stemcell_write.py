"""write_image onto real targets: files pre-filled with garbage (and shorter, longer, missing), a real loop block
device, qcow2/VHD conversion through the real qemu-img, progress reports, and failures."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cpi.stemcell import StemcellImageError, write_image
from cpi.stemcell import compression as compression_module
from cpi.stemcell.zeroing import Zeroer
from cpi.stemcell.formats import dynamic_vhd_layout
from tests.stemcell.stemcell_images import DISK_SIZE, Images, garbage_file, pack, qemu, sha256_file


def test_raw_onto_a_larger_garbage_file(images: Images, tmp_path: Path) -> None:
    target = garbage_file(tmp_path / "volume", DISK_SIZE + 3 * 1024 * 1024)
    result = write_image(str(images.raw), str(target))
    assert target.stat().st_size == DISK_SIZE
    assert sha256_file(target) == images.raw_sha256
    assert (result.format, result.image_size) == ("raw", DISK_SIZE)
    assert result.data_bytes + result.zeroed_bytes == DISK_SIZE
    assert 0 < result.data_bytes < DISK_SIZE / 2  # zero runs were not written
    assert result.zero_method == "punch_hole"
    assert result.decoder == "isal"


def test_raw_onto_a_shorter_file_and_a_missing_one(images: Images, tmp_path: Path) -> None:
    short = garbage_file(tmp_path / "short", 1024 * 1024 + 5)
    write_image(str(images.raw), str(short))
    assert sha256_file(short) == images.raw_sha256
    missing = tmp_path / "new"
    write_image(str(images.raw), str(missing), sync=False)
    assert sha256_file(missing) == images.raw_sha256
    assert missing.stat().st_mode & 0o777 == 0o600


def test_plain_tar_and_zlib_fallback(images: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compression_module, "_igzip", None)
    target = garbage_file(tmp_path / "volume", DISK_SIZE)
    write_image(str(images.raw), str(target))
    assert sha256_file(target) == images.raw_sha256
    target2 = garbage_file(tmp_path / "volume2", DISK_SIZE)
    write_image(str(images.raw_plain_tar), str(target2))
    assert sha256_file(target2) == images.raw_sha256


def test_writing_zeros_when_no_zeroing_method_works(images: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Zeroer.__init__

    def without_fast_methods(self: Zeroer, fd: int, *, is_block_device: bool) -> None:
        original(self, fd, is_block_device=is_block_device)
        self._methods.clear()

    monkeypatch.setattr(Zeroer, "__init__", without_fast_methods)
    target = garbage_file(tmp_path / "volume", DISK_SIZE)
    result = write_image(str(images.raw), str(target))
    assert result.zero_method == "write_zeros"
    assert sha256_file(target) == images.raw_sha256


def test_progress_is_reported_up_to_the_total(images: Images, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    write_image(str(images.raw), str(tmp_path / "volume"), progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 2
    assert all(total == DISK_SIZE for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (DISK_SIZE, DISK_SIZE)


@pytest.mark.parametrize("kind, method", [("qcow2", "qemu-img"), ("vhd", "punch_hole")])
def test_converted_formats_onto_garbage(images: Images, tmp_path: Path, kind: str, method: str) -> None:
    """qcow2 goes through qemu-img (and a temporary copy); a dynamic VHD is streamed block by block, no copy."""
    image = getattr(images, kind)
    target = garbage_file(tmp_path / "volume", DISK_SIZE + 2 * 1024 * 1024)
    calls: list[tuple[int, int]] = []
    result = write_image(str(image), str(target), progress=lambda d, t: calls.append((d, t)), tmp_dir=str(tmp_path))
    assert result.format == kind and result.zero_method == method
    assert target.stat().st_size == result.image_size >= DISK_SIZE
    assert sha256_file(target, DISK_SIZE) == images.raw_sha256
    with open(target, "rb") as handle:  # geometry padding, if any, must read as zeros too
        handle.seek(DISK_SIZE)
        assert handle.read() == bytes(result.image_size - DISK_SIZE)
    assert calls[-1] == (result.image_size, result.image_size)
    assert [p.name for p in tmp_path.iterdir()] == ["volume"]  # the temporary copy is gone


def test_dynamic_vhd_stream_equals_qemu_img_conversion(images: Images, tmp_path: Path) -> None:
    """The block-by-block VHD writer gives exactly what `qemu-img convert -O raw` gives (size and bytes), onto a
    target that held other data, for the builder's own layout (bzip2 of the bare VHD)."""
    reference = tmp_path / "reference.raw"
    qemu("convert", "-f", "vpc", "-O", "raw", str(images.vhd_file), str(reference))
    target = garbage_file(tmp_path / "volume", reference.stat().st_size + 3 * 1024 * 1024)
    result = write_image(str(images.layouts[("bzip2", "bare", "vhd")]), str(target), tmp_dir=str(tmp_path))
    assert result.image_size == reference.stat().st_size == target.stat().st_size
    assert sha256_file(target) == sha256_file(reference)
    assert result.data_bytes + result.zeroed_bytes == result.image_size  # every byte written or zeroed, once
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reference.raw", "volume"]


def test_vhd_whose_size_qemu_reads_from_its_geometry_goes_through_qemu_img(images: Images) -> None:
    """Virtual PC and old qemu files: qemu-img takes the CHS geometry, not the footer's size; when they differ the
    writer leaves the conversion to qemu-img so both agree."""
    head = bytearray(images.vhd_file.read_bytes()[:1 << 20])
    assert dynamic_vhd_layout(bytes(head)).qemu_agrees
    head[28:32] = b"vpc "
    head[48:56] = (int.from_bytes(head[48:56], "big") + 512 * 1024).to_bytes(8, "big")
    total = sum(head[:64]) + sum(head[68:512])
    head[64:68] = ((~total) & 0xFFFFFFFF).to_bytes(4, "big")
    assert not dynamic_vhd_layout(bytes(head)).qemu_agrees


def test_fixed_vhd_is_written_without_its_footer(images: Images, tmp_path: Path) -> None:
    target = garbage_file(tmp_path / "volume", DISK_SIZE * 2)
    result = write_image(str(images.vhd_fixed), str(target))
    assert (result.format, result.zero_method) == ("vhd", "punch_hole")
    assert result.image_size == images.vhd_fixed_file.stat().st_size - 512 == target.stat().st_size
    assert sha256_file(target, DISK_SIZE) == images.raw_sha256


def test_failures_are_clear(images: Images, tmp_path: Path, tar_with) -> None:
    with pytest.raises(StemcellImageError, match="not a block device or regular file"):
        write_image(str(images.raw), str(tmp_path))
    with pytest.raises(StemcellImageError, match="Cannot open .* for writing"):
        write_image(str(images.raw), str(tmp_path / "no-such-dir" / "volume"))
    two = tar_with([("root.img", b"\1" * 4096), ("extra.img", b"\2" * 10)])
    with pytest.raises(StemcellImageError, match="more than one file"):
        write_image(str(two), str(tmp_path / "volume"))
    cut = tmp_path / "cut"
    data = images.raw.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(StemcellImageError, match="truncated"):
        write_image(str(cut), str(tmp_path / "volume"))


# -- a real block device ------------------------------------------------------------------------------------


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if os.geteuid() != 0 or not shutil.which("losetup"):
        pytest.skip("loop block devices need root and losetup")
    backing = garbage_file(tmp_path / "backing", DISK_SIZE + 4 * 1024 * 1024)
    attach = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True, text=True)
    if attach.returncode != 0:
        pytest.skip(f"cannot attach a loop device here: {attach.stderr.strip()}")
    device = attach.stdout.strip()
    try:
        yield device, backing
    finally:
        subprocess.run(["losetup", "--detach", device], check=True)


def test_raw_onto_a_block_device_that_held_old_data(images: Images, loop_device: tuple[str, Path]) -> None:
    device, backing = loop_device
    tail_before = backing.read_bytes()[DISK_SIZE:]
    result = write_image(str(images.raw), device)
    assert result.zero_method in ("punch_hole", "zero_range", "blkzeroout")
    assert sha256_file(Path(device), DISK_SIZE) == images.raw_sha256
    assert backing.read_bytes()[DISK_SIZE:] == tail_before  # past the disk: untouched
    assert os.path.getsize(backing) == DISK_SIZE + 4 * 1024 * 1024  # a device is never truncated


def test_qcow2_onto_a_block_device(images: Images, loop_device: tuple[str, Path], tmp_path: Path) -> None:
    device, _ = loop_device
    write_image(str(images.qcow2), device, tmp_dir=str(tmp_path))
    assert sha256_file(Path(device), DISK_SIZE) == images.raw_sha256


def test_block_device_too_small(images: Images, tmp_path: Path) -> None:
    if os.geteuid() != 0 or not shutil.which("losetup"):
        pytest.skip("loop block devices need root and losetup")
    backing = garbage_file(tmp_path / "small", 1024 * 1024)
    device = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True, text=True, check=True).stdout.strip()
    try:
        with pytest.raises(StemcellImageError, match=rf"Block device {device} is too small .*1048576 bytes, {DISK_SIZE} needed"):
            write_image(str(images.raw), device)
    finally:
        subprocess.run(["losetup", "--detach", device], check=True)


def test_damaged_qcow2_is_reported_by_qemu_img(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.qcow2"
    bogus.write_bytes(b"QFI\xfb" + b"\0\0\0\x03" + os.urandom(4096))  # qcow2 magic, version 3, garbage header
    image = pack(tmp_path / "image", ("root.img", bogus))
    with pytest.raises(StemcellImageError, match="qemu-img cannot read the qcow2 image"):
        write_image(str(image), str(tmp_path / "volume"), tmp_dir=str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bogus.qcow2", "image"]  # no temporary copy left
