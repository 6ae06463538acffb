"""Stemcell image handling for create_stemcell: inspect the `image` file BOSH passes (any layout, see archive.py),
write its disk onto a volume in one pass (mode B: volume copy), or stream it for a template upload (modes A and C),
converted with qemu-img when the hypervisor takes another format.

Importing this package costs nothing heavy (stdlib only; ISA-L and indexed_bzip2 are used when installed).
"""
from cpi.stemcell.convert import converted_image
from cpi.stemcell.errors import StemcellImageError
from cpi.stemcell.formats import CLOUDSTACK_FORMATS
from cpi.stemcell.info import ImageInfo, archive_sha256, inspect_image
from cpi.stemcell.reader import InnerImageReader, open_inner_image
from cpi.stemcell.writer import ProgressCallback, WriteResult, write_image

__all__ = [
    "CLOUDSTACK_FORMATS",
    "ImageInfo",
    "InnerImageReader",
    "ProgressCallback",
    "StemcellImageError",
    "WriteResult",
    "archive_sha256",
    "converted_image",
    "inspect_image",
    "open_inner_image",
    "write_image",
]
