"""Whether this cloud can run a stemcell, from its stemcell.MF `cloud_properties` and its image, before anything is
created: one clear CloudError per mismatch instead of a template that never boots.

bosh-linux-stemcell-builder writes `infrastructure: cloudstack`, `hypervisor: xen`, `architecture: x86_64` and
`disk_format: vhdx` for CloudStack (bosh-stemcell/lib/bosh/stemcell/infrastructure.rb); the 2014 community stemcells
said `hypervisor: kvm`. The Go CPI (orange-cloudfoundry/bosh-cpi-cloudstack, action/ CloudStackCloudProperties)
refuses anything but cloudstack / x86_64 / xen; this CPI accepts every hypervisor a zone has, and when the image is
handed to CloudStack as a file, picks the format CloudStack takes for that hypervisor (converting when it differs).
"""
from __future__ import annotations

from typing import Any

from cpi.methods.cloud import Cloud
from cpi.networks import Zone
from cpi.protocol import CloudError

#: stemcell.MF hypervisor names (and CloudStack's own, lower-cased) -> CloudStack hypervisor types.
HYPERVISORS = {
    "xen": "XenServer", "xenserver": "XenServer", "kvm": "KVM", "esxi": "VMware", "vmware": "VMware",
    "hyperv": "Hyperv", "hyper-v": "Hyperv",
}
#: The hypervisor an image format implies when neither the stemcell nor the zone says.
FORMAT_HYPERVISORS = {"VHD": "XenServer", "QCOW2": "KVM", "RAW": "KVM", "VHDX": "Hyperv"}
#: Template formats CloudStack deploys on each hypervisor (registerTemplate / getUploadParamsForTemplate `format`).
HYPERVISOR_FORMATS = {"XenServer": ("VHD",), "KVM": ("QCOW2", "RAW"), "Hyperv": ("VHD", "VHDX"), "VMware": ("OVA",)}
ARCHITECTURES = ("x86_64", "amd64")


def check_properties(props: dict[str, Any]) -> None:
    """The stemcell's infrastructure, architecture and OS type, when it names them, must be CloudStack's, x86_64
    and linux."""
    infrastructure = str(props.get("infrastructure") or "cloudstack")
    if infrastructure.lower() != "cloudstack":
        raise CloudError(f"stemcell {_name(props)} is built for infrastructure '{infrastructure}', not cloudstack: "
                         "its agent would not find its settings; use a CloudStack stemcell")
    architecture = str(props.get("architecture") or "x86_64")
    if architecture.lower() not in ARCHITECTURES:
        raise CloudError(f"stemcell {_name(props)} is built for architecture '{architecture}'; CloudStack 4.18 "
                         "runs x86_64 guests only")
    os_type = str(props.get("os_type") or "linux")
    if os_type.lower() != "linux":
        raise CloudError(f"stemcell {_name(props)} has os_type '{os_type}'; this CPI runs Linux stemcells only (its "
                         "agent settings and OS types are Linux ones)")


def hypervisor_for(cloud: Cloud, props: dict[str, Any], image_format: str | None, zone: Zone) -> str:
    """The hypervisor the template is for: the stemcell's declared one (which the zone must have), else the zone's
    only one, else the one the image format implies (`image_format` None: a light stemcell, no image)."""
    # listHypervisors takes no page/pagesize (4.18 listApis), so not client.list
    listed = cloud.client.call("listHypervisors", zoneid=zone.id).get("hypervisor") or []
    available = [str(h.get("name")) for h in listed if h.get("name")]
    declared_name = str(props.get("hypervisor") or "")
    if declared_name:
        declared = HYPERVISORS.get(declared_name.lower())
        if declared is None:
            raise CloudError(f"stemcell {_name(props)} names an unknown hypervisor '{declared_name}' (expected one "
                             f"of {', '.join(sorted(set(HYPERVISORS)))})")
        if available and declared not in available:
            raise CloudError(f"stemcell {_name(props)} is for {declared} but zone {zone.name} has only "
                             f"{', '.join(sorted(available))} hosts; use a stemcell for {' or '.join(sorted(available))}")
        return declared
    if len(available) == 1:
        return available[0]
    if image_format is None:
        raise CloudError(f"stemcell {_name(props)} names no hypervisor and zone {zone.name} has several "
                         f"({', '.join(sorted(available))}); add `hypervisor` to the stemcell's cloud_properties")
    return FORMAT_HYPERVISORS[image_format]


def upload_format(props: dict[str, Any], image_format: str, hypervisor: str, mode: str) -> str | None:
    """For the modes that hand CloudStack the image file (url, upload): None when the hypervisor deploys the image's
    format, else the format to convert it to first (the hypervisor's first). Volume copy writes the raw disk onto a
    volume, so any format does there; an `image_url` CloudStack downloads itself cannot be converted."""
    accepted = HYPERVISOR_FORMATS.get(hypervisor, tuple(FORMAT_HYPERVISORS))
    if mode == "volume" or image_format in accepted:
        return None
    convertible = [f for f in accepted if f in FORMAT_HYPERVISORS]
    if not convertible or (mode == "url" and props.get("image_url")):
        raise CloudError(f"stemcell {_name(props)} holds a {image_format} disk, which CloudStack does not deploy on "
                         f"{hypervisor} (it takes {', '.join(accepted)}); use stemcell_upload: volume (the CPI writes "
                         f"any format onto a volume) or a stemcell whose image is {' or '.join(accepted)}")
    return convertible[0]


def _name(props: dict[str, Any]) -> str:
    return " ".join(str(props[k]) for k in ("name", "version") if props.get(k)) or "(unnamed)"
