"""The one exception type of the stemcell image package."""
from __future__ import annotations


class StemcellImageError(Exception):
    """A stemcell `image` file that cannot be read or written: the message says what is wrong and with which file.

    The CPI turns it into a `Bosh::Clouds::CloudError`; it never carries secrets (only paths, sizes and names).
    """
