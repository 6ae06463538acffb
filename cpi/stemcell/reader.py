"""Stream the disk image of a stemcell `image` file (decompressed, out of its tarball if it has one), e.g. as the
body of a template upload (mode C) or over HTTP for registerTemplate (mode A), without a temporary file."""
from __future__ import annotations

import io

from cpi.stemcell.archive import ImageStream


class InnerImageReader(io.RawIOBase):
    """A read-only, forward-only file over the disk image; `size` bytes long.

    Reaching the end checks the rest of the file too (exactly one image), raising StemcellImageError otherwise.
    """

    def __init__(self, path: str, size: int | None = None) -> None:
        super().__init__()
        self._image = ImageStream(path, size=size)
        self.size = self._image.size
        self.member_name = self._image.member_name
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._image.readinto(memoryview(buffer).cast("B"))
        self._done += n
        if n == 0 and len(buffer):
            self._image.finish()
        return n

    def tell(self) -> int:
        return self._done

    def close(self) -> None:
        if not self.closed:
            self._image.close()
        super().close()


def open_inner_image(path: str, size: int | None = None) -> InnerImageReader:
    """Open the disk image in a stemcell `image` file for reading; its length is `.size` (pass `size` when an
    earlier `inspect_image` found it: a compressed bare disk then needs no counting pass).

    Use as a context manager; `read(n)`/`readinto` stream the bytes in order (one decode pass).
    """
    return InnerImageReader(path, size)
