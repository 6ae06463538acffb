"""info: what the director learns before anything else (no configuration, no CloudStack call)."""
from __future__ import annotations

from typing import Any

# bosh-linux-stemcell-builder's CloudStack infrastructure writes `cloudstack-vhdx` (its image is a VHD for
# XenServer); the raw and qcow2 names cover KVM stemcells, whose `image` holds a raw or qcow2 disk.
STEMCELL_FORMATS = ["cloudstack-vhdx", "cloudstack-vhd", "cloudstack-raw", "cloudstack-qcow2"]


def info(cloud: Any = None) -> dict[str, Any]:
    return {"api_version": 2, "stemcell_formats": list(STEMCELL_FORMATS)}
