"""inspect_image and open_inner_image on real tarballs (raw, qcow2, VHD made by qemu-img) and broken ones."""
from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
from pathlib import Path

import pytest
from tests.stemcell.stemcell_images import DISK_SIZE, Images, pack, sha256_file

from cpi.stemcell import StemcellImageError, inspect_image, open_inner_image


def test_raw_image_cheap_inspection(images: Images) -> None:
    info = inspect_image(str(images.raw))
    assert (info.format, info.cloudstack_format, info.member_name) == ("raw", "RAW", "root.img")
    assert info.size == info.virtual_size == DISK_SIZE
    assert info.archive_sha256 == sha256_file(images.raw)
    assert info.image_sha256 is None


def test_deep_inspection_digests_the_inner_image(images: Images) -> None:
    info = inspect_image(str(images.raw), deep=True)
    assert info.image_sha256 == images.raw_sha256 == sha256_file(images.raw_disk)
    assert info.format == "raw"


def test_plain_tar_is_accepted(images: Images) -> None:
    info = inspect_image(str(images.raw_plain_tar))
    assert (info.format, info.size) == ("raw", DISK_SIZE)


def test_qcow2_image(images: Images) -> None:
    info = inspect_image(str(images.qcow2))
    assert (info.format, info.cloudstack_format) == ("qcow2", "QCOW2")
    assert info.size == images.qcow2_file.stat().st_size
    assert info.virtual_size == DISK_SIZE


def test_dynamic_vhd_image(images: Images) -> None:
    info = inspect_image(str(images.vhd))
    assert (info.format, info.cloudstack_format, info.member_name) == ("vhd", "VHD", "root.vhd")
    assert info.size == images.vhd_file.stat().st_size
    assert info.virtual_size >= DISK_SIZE  # qemu rounds VHD sizes up to the disk geometry


def test_fixed_vhd_looks_raw_until_a_deep_inspection(images: Images) -> None:
    assert inspect_image(str(images.vhd_fixed)).format == "raw"
    deep = inspect_image(str(images.vhd_fixed), deep=True)
    assert (deep.format, deep.virtual_size) == ("vhd", images.vhd_fixed_file.stat().st_size - 512)
    assert deep.image_sha256 == sha256_file(images.vhd_fixed_file)


def test_inner_image_reader_streams_exact_bytes(images: Images) -> None:
    with open_inner_image(str(images.qcow2)) as reader:
        assert reader.size == images.qcow2_file.stat().st_size
        data = b"".join(iter(lambda: reader.read(100_000), b""))
        assert reader.tell() == reader.size
    assert hashlib.sha256(data).hexdigest() == sha256_file(images.qcow2_file)


def test_long_member_names_in_gnu_and_pax_tarballs(tar_with) -> None:
    name = "stemcell/" + "x" * 150 + "/root.img"
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        info = inspect_image(str(tar_with([("stemcell", None), (name, b"\1" * 4096)], fmt)), deep=True)
        assert (info.member_name, info.size) == (name, 4096)


# -- broken input -------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StemcellImageError, match="Cannot read stemcell image .*No such file"):
        inspect_image(str(tmp_path / "nope"))


def test_neither_a_tarball_nor_a_disk(tmp_path: Path) -> None:
    gz = tmp_path / "image"
    gz.write_bytes(gzip.compress(os.urandom(4096)))
    with pytest.raises(StemcellImageError, match="is neither a tar archive nor a disk image: no qcow2, VHD or VHDX "
                                                 "signature and no MBR boot signature"):
        inspect_image(str(gz))
    plain = tmp_path / "plain"
    plain.write_bytes(b"this is a text file, not a stemcell image\n" * 20)
    with pytest.raises(StemcellImageError, match="is neither a tar archive nor a disk image"):
        inspect_image(str(plain))


def test_not_gzip_data_after_the_magic(tmp_path: Path) -> None:
    bad = tmp_path / "image"
    bad.write_bytes(b"\x1f\x8b" + os.urandom(2000))
    with pytest.raises(StemcellImageError, match="not a valid gzip file"):
        inspect_image(str(bad))


def test_empty_tarball(tar_with) -> None:
    with pytest.raises(StemcellImageError, match="contains no disk image: it is empty, an empty tar archive"):
        inspect_image(str(tar_with([])))


def test_tarball_with_only_directories(tar_with) -> None:
    with pytest.raises(StemcellImageError, match=r"no disk image file \(it holds only stemcell \(directory\)\)"):
        inspect_image(str(tar_with([("stemcell", None)])))


def test_empty_image_member(tar_with) -> None:
    with pytest.raises(StemcellImageError, match="disk image root.img is empty"):
        inspect_image(str(tar_with([("root.img", b"")])))


def test_more_than_one_image(tar_with) -> None:
    path = str(tar_with([("root.img", b"\1" * 2048), ("other.img", b"\2" * 1024)]))
    assert inspect_image(path).member_name == "root.img"  # the cheap look sees only the first file
    with pytest.raises(StemcellImageError, match=r"more than one file \(root.img, other.img\)"):
        inspect_image(path, deep=True)
    with open_inner_image(path) as reader, pytest.raises(StemcellImageError, match="more than one file"):
        reader.read()


def test_directories_after_the_image_are_fine(tar_with) -> None:
    info = inspect_image(str(tar_with([("root.img", b"\1" * 2048), ("empty-dir", None)])), deep=True)
    assert info.size == 2048


def test_truncated_gzip(images: Images, tmp_path: Path) -> None:
    cut = tmp_path / "image"
    data = images.raw.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert inspect_image(str(cut)).format == "raw"  # the head is intact
    with pytest.raises(StemcellImageError, match="is truncated"):
        inspect_image(str(cut), deep=True)


def test_truncated_plain_tar(images: Images, tmp_path: Path) -> None:
    cut = tmp_path / "image.tar"
    cut.write_bytes(images.raw_plain_tar.read_bytes()[: 3 * 1024 * 1024])
    with pytest.raises(StemcellImageError, match=r"truncated: root.img should have \d+ bytes"):
        inspect_image(str(cut), deep=True)


def test_damaged_qcow2_header(tmp_path: Path) -> None:
    stub = tmp_path / "stub.qcow2"
    stub.write_bytes(b"QFI\xfb" + b"\0" * 10)
    with pytest.raises(StemcellImageError, match="damaged qcow2 header"):
        inspect_image(str(pack(tmp_path / "image", ("root.img", stub))))
