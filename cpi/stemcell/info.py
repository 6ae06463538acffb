"""What a stemcell `image` file holds, for create_stemcell to decide how to upload it and whether it already has."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cpi.stemcell.archive import ImageStream
from cpi.stemcell.errors import StemcellImageError
from cpi.stemcell.formats import (
    CLOUDSTACK_FORMATS,
    HEAD_SIZE,
    RAW,
    VHD,
    VHD_FOOTER_SIZE,
    VHDX,
    VHDX_HEAD_LIMIT,
    detect_format,
    fixed_vhd_data_size,
    header_virtual_size,
)

_READ = 4 << 20


@dataclass(frozen=True)
class ImageInfo:
    """The disk image in a stemcell `image` file (see cpi.stemcell.archive for the layouts).

    - `archive_sha256`: digest of the `image` file as BOSH handed it over (compressed). Cheap (no inflate), stable
      for a given stemcell: the CPI tags templates with it to reuse them instead of uploading again.
    - `size`: bytes of the inner image file (what an upload sends); `virtual_size`: bytes of the disk it describes
      (what a volume must hold).
    - `image_sha256`: digest of the inner image bytes; only computed by `inspect_image(deep=True)`.
    """

    format: str  # raw, qcow2, vhd or vhdx
    member_name: str  # the tar member's name; the `image` file's own name for a bare disk
    size: int
    virtual_size: int
    archive_sha256: str
    image_sha256: str | None = None
    compression: str = "none"  # gzip, bzip2 or none
    container: str = "tar"  # tar or bare

    @property
    def cloudstack_format(self) -> str:
        """The format as registerTemplate / getUploadParamsForTemplate spell it: RAW, QCOW2 or VHD."""
        return CLOUDSTACK_FORMATS[self.format]

    @property
    def layout(self) -> str:
        """How the disk is packed, for logs and errors, e.g. `bzip2 bare vhd` or `gzip tar raw`."""
        return f"{self.compression} {self.container} {self.format}"


def archive_sha256(path: str) -> str:
    """sha256 of the `image` file itself, as BOSH handed it over (compressed or not)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_READ), b""):
                digest.update(chunk)
    except OSError as exc:
        raise StemcellImageError(f"Cannot read stemcell image {path}: {exc.strerror}") from None
    return digest.hexdigest()


def inspect_image(path: str, *, deep: bool = False) -> ImageInfo:
    """Describe the disk image in a stemcell `image` file.

    The default is cheap: the file is hashed and only the image's first bytes are decoded (format from its magic
    bytes, virtual size from its header), except for a compressed bare disk whose length nothing but a full decode
    tells (raw, qcow2, VHDX; not a dynamic VHD, see cpi.stemcell.archive). A fixed VHD then looks raw, and a second
    file in a tarball goes unnoticed (`write_image` and the `open_inner_image` reader do notice, at the end of their
    pass). `deep=True` decodes everything once more: it finds fixed VHDs, rejects extra files and computes
    `image_sha256`.
    """
    with ImageStream(path) as image:
        buf = bytearray(max(_READ, VHDX_HEAD_LIMIT) if deep else HEAD_SIZE)
        view = memoryview(buf)
        filled = image.readinto(view)
        head = bytes(view[:min(filled, HEAD_SIZE)])
        fmt = detect_format(head)
        if fmt == VHDX:  # its virtual size is in the metadata region, a few MiB in
            head = bytes(view[:filled])
            if len(head) < VHDX_HEAD_LIMIT and not deep:
                more = bytearray(VHDX_HEAD_LIMIT - len(head))
                head += bytes(memoryview(more)[:image.readinto(more)])
        try:
            virtual = header_virtual_size(fmt, head, image.size)
        except ValueError as exc:
            raise StemcellImageError(f"Stemcell image {path}: {image.member_name} has a damaged {fmt} header ({exc})") from None
        image_digest = None
        if deep:
            digest, tail = hashlib.sha256(), b""
            while filled:
                digest.update(view[:filled])
                tail = (tail + bytes(view[max(0, filled - VHD_FOOTER_SIZE):filled]))[-VHD_FOOTER_SIZE:]
                filled = image.readinto(view)
            image.finish()
            image_digest = digest.hexdigest()
            vhd_size = fixed_vhd_data_size(tail, image.size) if fmt == RAW else None
            if vhd_size is not None:
                fmt, virtual = VHD, vhd_size
        member, size, compression, container = image.member_name, image.size, image.compression, image.container
    return ImageInfo(fmt, member, size, virtual, archive_sha256(path), image_digest, compression, container)
