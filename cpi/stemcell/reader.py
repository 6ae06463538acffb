"""Stream the inner disk image of a stemcell `image` tarball, e.g. as the body of a template upload (mode C) or
over HTTP for registerTemplate (mode A), without a temporary file."""
from __future__ import annotations

import io

from cpi.stemcell.archive import ImageTarball


class InnerImageReader(io.RawIOBase):
    """A read-only, forward-only file over the disk image inside the tarball; `size` bytes long.

    Reaching the end checks the rest of the tarball too (exactly one image), raising StemcellImageError otherwise.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self._tarball = ImageTarball(path)
        self.size = self._tarball.size
        self.member_name = self._tarball.member_name
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._tarball.readinto(memoryview(buffer).cast("B"))
        self._done += n
        if n == 0 and len(buffer):
            self._tarball.finish()
        return n

    def tell(self) -> int:
        return self._done

    def close(self) -> None:
        if not self.closed:
            self._tarball.close()
        super().close()


def open_inner_image(path: str) -> InnerImageReader:
    """Open the disk image inside a stemcell `image` tarball for reading; its length is `.size`.

    Use as a context manager; `read(n)`/`readinto` stream the bytes in order (one inflate pass).
    """
    return InnerImageReader(path)
