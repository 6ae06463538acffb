"""Disk image formats found inside a stemcell's `image` tarball, recognised by their bytes, never by file names.

- qcow2: magic `QFI\\xfb` at offset 0; virtual size is the big-endian u64 at offset 24.
- VHD (dynamic or differencing, what `qemu-img convert -O vpc` writes by default): a copy of the 512-byte footer,
  cookie `conectix`, at offset 0. A *fixed* VHD is raw data followed by the footer only, so it is recognised by its
  last 512 bytes (see `parse_vhd_footer`), which only a full pass over the image can see.
- VHDX (MS-VHDX): file type identifier `vhdxfile` at offset 0; the virtual size is an item of the metadata region
  found through the region table at 192 KiB.
- raw: anything else (a bare raw disk must at least carry an MBR boot signature, see `has_boot_signature`).
"""
from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

RAW = "raw"
QCOW2 = "qcow2"
VHD = "vhd"
VHDX = "vhdx"

#: Format names as CloudStack's registerTemplate / getUploadParamsForTemplate spell them (Storage.ImageFormat).
CLOUDSTACK_FORMATS = {RAW: "RAW", QCOW2: "QCOW2", VHD: "VHD", VHDX: "VHDX"}

#: Format names as `qemu-img -f` spells them.
QEMU_FORMATS = {RAW: "raw", QCOW2: "qcow2", VHD: "vpc", VHDX: "vhdx"}

QCOW2_MAGIC = b"QFI\xfb"
VHD_COOKIE = b"conectix"
VHDX_SIGNATURE = b"vhdxfile"
VHD_FOOTER_SIZE = 512
SECTOR = 512

_VHD_DYNAMIC, _VHD_DIFFERENCING = 3, 4
_VHD_UNALLOCATED = 0xFFFFFFFF
_VHDX_REGION_TABLE = 192 << 10
_VHDX_METADATA_REGION = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E").bytes_le
_VHDX_VIRTUAL_DISK_SIZE = uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8").bytes_le

#: How many leading bytes `detect_format` needs.
HEAD_SIZE = VHD_FOOTER_SIZE


def detect_format(head: bytes) -> str:
    """The format of an image from its first bytes (at least 512 of them, unless the image is shorter)."""
    if head.startswith(QCOW2_MAGIC):
        return QCOW2
    if head.startswith(VHD_COOKIE):
        return VHD
    if head.startswith(VHDX_SIGNATURE):
        return VHDX
    return RAW


def has_boot_signature(head: bytes) -> bool:
    """Whether the first sector ends with the MBR boot signature 0x55AA (MBR and protective-MBR/GPT disks do):
    what tells a bare raw disk from an arbitrary file."""
    return len(head) >= SECTOR and head[510:512] == b"\x55\xaa"


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
    if fmt == VHDX:
        return vhdx_virtual_size(head)
    return file_size


#: How many leading bytes `vhdx_virtual_size` may need (its metadata region sits at a few MiB in practice).
VHDX_HEAD_LIMIT = 16 << 20


def vhdx_virtual_size(head: bytes) -> int:
    """The virtual disk size of a VHDX from its first bytes: region table -> metadata region -> Virtual Disk Size.

    ValueError when the structures are damaged or lie beyond `head` (callers pass up to VHDX_HEAD_LIMIT bytes)."""
    try:
        signature, _, count = struct.unpack_from("<4sII", head, _VHDX_REGION_TABLE)
        if signature != b"regi":
            raise ValueError("no VHDX region table at 192 KiB")
        regions = [struct.unpack_from("<16sQ", head, _VHDX_REGION_TABLE + 16 + 32 * i) for i in range(min(count, 2047))]
        metadata = next((offset for guid, offset in regions if guid == _VHDX_METADATA_REGION), None)
        if metadata is None:
            raise ValueError("no metadata region")
        if head[metadata:metadata + 8] != b"metadata":
            raise ValueError(f"no VHDX metadata table at offset {metadata}")
        (entries,) = struct.unpack_from("<H", head, metadata + 10)
        for i in range(entries):
            guid, offset = struct.unpack_from("<16sI", head, metadata + 32 + 32 * i)
            if guid == _VHDX_VIRTUAL_DISK_SIZE:
                return struct.unpack_from("<Q", head, metadata + offset)[0]
    except struct.error:
        raise ValueError(f"VHDX metadata lies beyond the first {len(head)} bytes") from None
    raise ValueError("no Virtual Disk Size item in the VHDX metadata")


def _dynamic_vhd_header(head: bytes) -> tuple[int, int, int] | None:
    """(BAT offset, BAT entries, block size) of a dynamic VHD whose footer copy and dynamic header are in `head`."""
    if len(head) < VHD_FOOTER_SIZE or parse_vhd_footer(head[:VHD_FOOTER_SIZE]) is None:
        return None
    (data_offset,) = struct.unpack_from(">Q", head, 16)
    (disk_type,) = struct.unpack_from(">I", head, 60)
    if disk_type != _VHD_DYNAMIC or data_offset + 1024 > len(head) or head[data_offset:data_offset + 8] != b"cxsparse":
        return None
    table_offset, _, entries, block_size = struct.unpack_from(">QIII", head, data_offset + 16)
    if block_size == 0 or block_size % SECTOR:
        return None
    return table_offset, entries, block_size


def dynamic_vhd_head_size(head: bytes) -> int | None:
    """How many leading bytes `dynamic_vhd_file_size` needs (through the end of the BAT), once `head` holds the
    footer copy and the dynamic header (1536 bytes); None for anything that is not a dynamic VHD."""
    header = _dynamic_vhd_header(head)
    return None if header is None else header[0] + 4 * header[1]


@dataclass(frozen=True)
class DynamicVhd:
    """Where a dynamic VHD keeps its blocks: enough to stream it to a raw disk in file order (cpi.stemcell.writer)."""

    disk_size: int  # the disk it describes: the footer's current size
    block_size: int
    bitmap_size: int  # the sector bitmap before each block: one bit per sector, padded to whole sectors
    table_end: int  # end of the block allocation table in the file
    blocks: tuple[tuple[int, int], ...]  # (file offset of the block's data, block index), in file order
    qemu_agrees: bool  # qemu-img reads the same disk size (it takes CHS geometry for Virtual PC/old qemu files)

    @property
    def file_size(self) -> int:
        """The file ends with the footer, 512 bytes after the last block (or after the BAT when none is allocated)."""
        end = -(-self.table_end // SECTOR) * SECTOR
        if self.blocks:
            end = max(end, self.blocks[-1][0] + self.block_size)
        return end + VHD_FOOTER_SIZE


def dynamic_vhd_layout(head: bytes) -> DynamicVhd | None:
    """A dynamic VHD's layout from its first bytes (footer copy, dynamic header, block allocation table); None when
    `head` is too short for the BAT or the image is not a dynamic VHD (fixed and differencing disks)."""
    header = _dynamic_vhd_header(head)
    if header is None:
        return None
    table_offset, entries, block_size = header
    table_end = table_offset + 4 * entries
    if table_end > len(head):
        return None
    bitmap = -(-(block_size // SECTOR) // 8 // SECTOR) * SECTOR
    blocks = sorted((sector * SECTOR + bitmap, index)
                    for index, (sector,) in enumerate(struct.iter_unpack(">I", head[table_offset:table_end]))
                    if sector != _VHD_UNALLOCATED)
    (current_size,) = struct.unpack_from(">Q", head, 48)
    cylinders, heads, sectors = struct.unpack_from(">HBB", head, 56)
    chs_disk = head[28:32] in (b"vpc ", b"qemu")
    qemu_agrees = not chs_disk or cylinders * heads * sectors * SECTOR == current_size
    return DynamicVhd(current_size, block_size, bitmap, table_end, tuple(blocks), qemu_agrees)


def dynamic_vhd_file_size(head: bytes) -> int | None:
    """The size of a dynamic VHD *file*, from its first bytes (see `dynamic_vhd_layout`).

    This is what lets a compressed VHD (bosh-linux-stemcell-builder's `bzip2 -c root.vhd`) be streamed with a known
    length without decompressing it twice; the reader checks the length at the end.
    """
    layout = dynamic_vhd_layout(head)
    return None if layout is None else layout.file_size


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
