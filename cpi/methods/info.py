"""info: what the director learns before anything else (no configuration, no CloudStack call)."""
from __future__ import annotations

from typing import Any

# bosh-linux-stemcell-builder's CloudStack infrastructure (bosh-stemcell/lib/bosh/stemcell/infrastructure.rb) writes
# `cloudstack-vhdx`, although its `image` is the bzip2 of a dynamic VHD for XenServer; the others name stemcells whose
# `image` holds a VHD, raw or qcow2 disk. cpi.stemcell reads every one of them, in a tarball or bare, gzip, bzip2 or
# uncompressed (tests/cpi/test_stemcell.py proves each advertised name with a real image through the CPI).
STEMCELL_FORMATS = ["cloudstack-vhdx", "cloudstack-vhd", "cloudstack-raw", "cloudstack-qcow2"]


def info(cloud: Any = None) -> dict[str, Any]:
    return {"api_version": 2, "stemcell_formats": list(STEMCELL_FORMATS)}
