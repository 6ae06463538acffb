"""Disk image formats found inside a stemcell's `image` tarball, recognised by their bytes, never by file names.

- qcow2: magic `QFI\\xfb` at offset 0; virtual size is the big-endian u64 at offset 24.
- VHD (dynamic or differencing, what `qemu-img convert -O vpc` writes by default): a copy of the 512-byte footer,
  cookie `conectix`, at offset 0. A *fixed* VHD is raw data followed by the footer only, so it is recognised by its
  last 512 bytes (see `parse_vhd_footer`), which only a full pass over the image can see.
- raw: anything else.
"""
from __future__ import annotations

import struct

RAW = "raw"
QCOW2 = "qcow2"
VHD = "vhd"

#: Format names as CloudStack's registerTemplate / getUploadParamsForTemplate spell them.
CLOUDSTACK_FORMATS = {RAW: "RAW", QCOW2: "QCOW2", VHD: "VHD"}

#: Format names as `qemu-img -f` spells them.
QEMU_FORMATS = {RAW: "raw", QCOW2: "qcow2", VHD: "vpc"}

QCOW2_MAGIC = b"QFI\xfb"
VHD_COOKIE = b"conectix"
VHD_FOOTER_SIZE = 512

#: How many leading bytes `detect_format` needs.
HEAD_SIZE = VHD_FOOTER_SIZE


def detect_format(head: bytes) -> str:
    """The format of an image from its first bytes (at least 512 of them, unless the image is shorter)."""
    if head.startswith(QCOW2_MAGIC):
        return QCOW2
    if head.startswith(VHD_COOKIE):
        return VHD
    return RAW


def header_virtual_size(fmt: str, head: bytes, file_size: int) -> int:
    """The disk size an image describes, read from its header (raw: its own size).

    For VHD this is the footer's "current size"; `qemu-img info` may round it to the disk geometry, so the volume
    writer asks qemu-img for the authoritative figure before converting.
    """
    if fmt == QCOW2:
        if len(head) < 32:
            raise ValueError("qcow2 header shorter than 32 bytes")
        return struct.unpack_from(">Q", head, 24)[0]
    if fmt == VHD:
        size = parse_vhd_footer(head[:VHD_FOOTER_SIZE])
        if size is None:
            raise ValueError("VHD footer checksum mismatch")
        return size
    return file_size


def parse_vhd_footer(footer: bytes) -> int | None:
    """The current size recorded in a VHD footer, or None when these 512 bytes are not a valid footer.

    Valid means: the `conectix` cookie and a matching one's-complement checksum (bytes 64..67), so random data
    or a raw disk's last sector is never taken for a footer.
    """
    if len(footer) != VHD_FOOTER_SIZE or not footer.startswith(VHD_COOKIE):
        return None
    (checksum,) = struct.unpack_from(">I", footer, 64)
    total = sum(footer[:64]) + sum(footer[68:])
    if (~total) & 0xFFFFFFFF != checksum:
        return None
    (current_size,) = struct.unpack_from(">Q", footer, 48)
    return current_size


def fixed_vhd_data_size(tail: bytes, file_size: int) -> int | None:
    """For an image whose head looked raw: the size of its data when its last 512 bytes are a fixed VHD's footer
    describing exactly the bytes before it, else None."""
    size = parse_vhd_footer(tail)
    if size is not None and size == file_size - VHD_FOOTER_SIZE:
        return size
    return None
