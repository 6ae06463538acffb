"""What a stemcell `image` file holds, for create_stemcell to decide how to upload it and whether it already has."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cpi.stemcell.archive import ImageTarball
from cpi.stemcell.errors import StemcellImageError
from cpi.stemcell.formats import (
    CLOUDSTACK_FORMATS,
    HEAD_SIZE,
    RAW,
    VHD,
    VHD_FOOTER_SIZE,
    detect_format,
    fixed_vhd_data_size,
    header_virtual_size,
)

_READ = 4 << 20


@dataclass(frozen=True)
class ImageInfo:
    """A stemcell image tarball's disk image.

    - `archive_sha256`: digest of the `image` file as BOSH handed it over (compressed). Cheap (no inflate), stable
      for a given stemcell: the CPI tags templates with it to reuse them instead of uploading again.
    - `size`: bytes of the inner image file (what an upload sends); `virtual_size`: bytes of the disk it describes
      (what a volume must hold).
    - `image_sha256`: digest of the inner image bytes; only computed by `inspect_image(deep=True)`.
    """

    format: str  # raw, qcow2 or vhd
    member_name: str
    size: int
    virtual_size: int
    archive_sha256: str
    image_sha256: str | None = None

    @property
    def cloudstack_format(self) -> str:
        """The format as registerTemplate / getUploadParamsForTemplate spell it: RAW, QCOW2 or VHD."""
        return CLOUDSTACK_FORMATS[self.format]


def archive_sha256(path: str) -> str:
    """sha256 of the `image` file itself (the compressed tarball)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_READ), b""):
                digest.update(chunk)
    except OSError as exc:
        raise StemcellImageError(f"Cannot read stemcell image {path}: {exc.strerror}") from None
    return digest.hexdigest()


def inspect_image(path: str, *, deep: bool = False) -> ImageInfo:
    """Describe the disk image in a stemcell `image` tarball.

    The default is cheap: the tarball is hashed and only the image's first bytes are inflated (format from its
    magic bytes, virtual size from its header). A fixed VHD then looks raw, and a second file in the tarball goes
    unnoticed (`write_image` and the `open_inner_image` reader do notice, at the end of their pass).
    `deep=True` inflates everything once more: it finds fixed VHDs, rejects extra files and computes `image_sha256`.
    """
    with ImageTarball(path) as tarball:
        buf = bytearray(_READ if deep else HEAD_SIZE)
        view = memoryview(buf)
        filled = tarball.readinto(view)
        head = bytes(view[:min(filled, HEAD_SIZE)])
        fmt = detect_format(head)
        try:
            virtual = header_virtual_size(fmt, head, tarball.size)
        except ValueError as exc:
            raise StemcellImageError(f"Stemcell image {path}: {tarball.member_name} has a damaged {fmt} header ({exc})") from None
        image_digest = None
        if deep:
            digest, tail = hashlib.sha256(), b""
            while filled:
                digest.update(view[:filled])
                tail = (tail + bytes(view[max(0, filled - VHD_FOOTER_SIZE):filled]))[-VHD_FOOTER_SIZE:]
                filled = tarball.readinto(view)
            tarball.finish()
            image_digest = digest.hexdigest()
            vhd_size = fixed_vhd_data_size(tail, tarball.size) if fmt == RAW else None
            if vhd_size is not None:
                fmt, virtual = VHD, vhd_size
        member, size = tarball.member_name, tarball.size
    return ImageInfo(fmt, member, size, virtual, archive_sha256(path), image_digest)
