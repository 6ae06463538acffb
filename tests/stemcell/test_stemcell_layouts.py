"""Every stemcell `image` layout, read for real: gzip / bzip2 / uncompressed, a tarball holding the disk or the bare
disk, and raw / qcow2 / dynamic VHD / VHDX disks made by qemu-img (bosh-linux-stemcell-builder's CloudStack stage
writes the bzip2 of a bare dynamic VHD: `bzip2 -c root.vhd > stemcell/image`)."""
from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from cpi.stemcell import StemcellImageError, converted_image, inspect_image, open_inner_image, write_image
from cpi.stemcell import archive as archive_module
from cpi.stemcell import compression as compression_module
from cpi.stemcell.formats import detect_format
from tests.stemcell.stemcell_images import (
    COMPRESSIONS,
    CONTAINERS,
    DISK_SIZE,
    FORMATS,
    Images,
    compress,
    garbage_file,
    qemu,
    sha256_file,
)

LAYOUTS = list(itertools.product(COMPRESSIONS, CONTAINERS, FORMATS))


def _id(layout: tuple[str, str, str]) -> str:
    return "-".join(layout)


@pytest.mark.parametrize("layout", LAYOUTS, ids=_id)
def test_inspect_every_layout(images: Images, layout: tuple[str, str, str]) -> None:
    compression, container, fmt = layout
    info = inspect_image(str(images.layouts[layout]))
    assert (info.compression, info.container, info.format) == layout
    assert info.cloudstack_format == fmt.upper()
    assert info.size == images.disk_file(fmt).stat().st_size
    assert info.virtual_size >= DISK_SIZE if fmt == "vhd" else info.virtual_size == DISK_SIZE
    assert info.member_name == (f"root.{fmt}" if container == "tar" else images.layouts[layout].name)


@pytest.mark.parametrize("layout", LAYOUTS, ids=_id)
def test_reader_streams_the_exact_disk_of_every_layout(images: Images, layout: tuple[str, str, str]) -> None:
    with open_inner_image(str(images.layouts[layout])) as reader:
        digest = hashlib.sha256()
        for chunk in iter(lambda: reader.read(300_000), b""):
            digest.update(chunk)
        assert reader.tell() == reader.size
    assert digest.hexdigest() == sha256_file(images.disk_file(layout[2]))


@pytest.mark.parametrize("layout", LAYOUTS, ids=_id)
def test_volume_writer_makes_the_raw_disk_from_every_layout(images: Images, tmp_path: Path,
                                                           layout: tuple[str, str, str]) -> None:
    target = garbage_file(tmp_path / "volume", DISK_SIZE + (1 << 20))
    result = write_image(str(images.layouts[layout]), str(target))
    assert result.format == layout[2]
    assert sha256_file(target, DISK_SIZE) == images.raw_sha256
    expected = {"gzip": compression_module.INFLATER, "bzip2": compression_module.BUNZIPPER, "none": "none"}
    assert result.decoder == expected[layout[0]]


def test_builder_layout_streams_in_one_pass(images: Images, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bzip2 of a bare dynamic VHD: its length comes from the VHD's block allocation table, not a counting
    pass (which would decode the whole image twice)."""
    def no_counting(path: str) -> int:
        raise AssertionError(f"counting pass over {path}")

    monkeypatch.setattr(archive_module, "count_decompressed", no_counting)
    path = str(images.layouts[("bzip2", "bare", "vhd")])
    assert inspect_image(path).size == images.vhd_file.stat().st_size
    with open_inner_image(path) as reader:
        assert hashlib.sha256(reader.read()).hexdigest() == sha256_file(images.vhd_file)


def test_other_compressed_bare_disks_are_counted_once_then_sized_by_the_caller(
        images: Images, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(images.layouts[("bzip2", "bare", "qcow2")])
    info = inspect_image(path)  # counts
    monkeypatch.setattr(archive_module, "count_decompressed", lambda p: pytest.fail("counted twice"))
    with open_inner_image(path, info.size) as reader:
        assert hashlib.sha256(reader.read()).hexdigest() == sha256_file(images.qcow2_file)


def test_stdlib_bz2_fallback(images: Images, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compression_module, "_ibz2", None)
    with open_inner_image(str(images.layouts[("bzip2", "tar", "raw")])) as reader:
        assert hashlib.sha256(reader.read()).hexdigest() == images.raw_sha256


@pytest.mark.parametrize("source, target, qemu_format", [("vhdx", "vhd", "vpc"), ("vhd", "qcow2", "qcow2")])
def test_converted_image_holds_the_same_disk_and_leaves_no_file(images: Images, tmp_path: Path, source: str,
                                                                 target: str, qemu_format: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with converted_image(str(images.layouts[("bzip2", "bare", source)]), target, tmp_dir=str(work)) as path:
        assert detect_format(Path(path).read_bytes()[:512]) == target
        qemu("convert", "-f", qemu_format, "-O", "raw", path, str(tmp_path / "back.raw"))
    assert sha256_file(tmp_path / "back.raw", DISK_SIZE) == images.raw_sha256
    assert list(work.iterdir()) == []  # the spool and the converted copy are gone


def test_converted_image_of_a_damaged_image_leaves_no_file(images: Images, tmp_path: Path) -> None:
    data = images.layouts[("gzip", "tar", "vhd")].read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(data[: len(data) // 2])
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(StemcellImageError, match="truncated"):
        with converted_image(str(cut), "qcow2", tmp_dir=str(work)):
            pass
    assert list(work.iterdir()) == []


# -- broken input -------------------------------------------------------------------------------------------


def test_truncated_and_corrupt_bzip2(images: Images, tmp_path: Path) -> None:
    data = images.layouts[("bzip2", "bare", "vhd")].read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "corrupt"
    corrupt.write_bytes(data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1:])
    for damaged in (cut, corrupt):  # the parallel decoder may notice at open already: either way, one clear error
        with pytest.raises(StemcellImageError, match="not a valid bzip2 file: the compressed data is damaged or "
                                                     "truncated|is truncated"):
            with open_inner_image(str(damaged)) as reader:
                reader.read()


def test_bare_vhd_longer_or_shorter_than_its_allocation_table_says(images: Images, tmp_path: Path) -> None:
    vhd = images.vhd_file.read_bytes()
    longer = compress(_write(tmp_path / "longer.vhd", vhd + bytes(512)), tmp_path / "longer", "bzip2")
    with open_inner_image(str(longer)) as reader, pytest.raises(
            StemcellImageError, match=f"holds more than the {len(vhd)} bytes its disk header describes"):
        reader.read()
    shorter = compress(_write(tmp_path / "shorter.vhd", vhd[:-512]), tmp_path / "shorter", "bzip2")
    with open_inner_image(str(shorter)) as reader, pytest.raises(
            StemcellImageError, match=f"is truncated: shorter should have {len(vhd)} bytes, the data ends after "
                                      f"{len(vhd) - 512}"):
        reader.read()


def test_bare_raw_disk_needs_its_boot_signature(images: Images, tmp_path: Path) -> None:
    raw = bytearray(images.raw_disk.read_bytes())
    raw[510:512] = b"\0\0"
    unsigned = compress(_write(tmp_path / "unsigned.img", bytes(raw)), tmp_path / "image", "gzip")
    with pytest.raises(StemcellImageError, match="neither a tar archive nor a disk image"):
        inspect_image(str(unsigned))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
