"""The template a stemcell becomes: its name, display text, OS type, hypervisor and the parameters every upload
mode shares (registerTemplate, getUploadParamsForTemplate, createTemplate), and waiting for it to be ready.

Shared by create_stemcell (cpi.methods.stemcell) and the upload modes (stemcell_upload, stemcell_volume), which
stemcell.py dispatches to: the one module all of them import, so none imports another.
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any

from cpi.methods import lookup
from cpi.methods.cloud import Cloud
from cpi.networks import Zone
from cpi.protocol import CloudError
from cpi.stemcell import ImageInfo

log = logging.getLogger("cpi.stemcell")

MAX_TEMPLATE_NAME = 32  # what CloudStack accepts in practice (all existing CPIs work around it)

UBUNTU_RELEASES = {
    "precise": "12.04", "trusty": "14.04", "xenial": "16.04", "bionic": "18.04", "focal": "20.04",
    "jammy": "22.04", "noble": "24.04",
}
HYPERVISORS = {"xen": "XenServer", "xenserver": "XenServer", "kvm": "KVM", "esxi": "VMware", "vmware": "VMware"}
FORMAT_HYPERVISORS = {"VHD": "XenServer", "QCOW2": "KVM", "RAW": "KVM"}


class Stemcell:
    """Everything the upload modes need to know about the template to make."""

    def __init__(self, cloud: Cloud, image_path: str, props: dict[str, Any], info: ImageInfo, zone: Zone) -> None:
        self.cloud = cloud
        self.image_path = image_path
        self.props = props
        self.info = info
        self.zone = zone
        self.name = ("bosh-" + info.archive_sha256)[:MAX_TEMPLATE_NAME]
        described = " ".join(str(props[k]) for k in ("name", "version") if props.get(k))
        self.display_text = described or self.name
        self.os_type_id = lookup.os_type_id(cloud, os_type_candidates(props, cloud.config.stemcell_os_type))
        self.hypervisor = hypervisor_for(cloud, props, info, zone)

    def template_params(self) -> dict[str, Any]:
        """What registerTemplate / getUploadParamsForTemplate / createTemplate share."""
        return {
            "name": self.name,
            "displaytext": self.display_text[:4096],
            "ostypeid": self.os_type_id,
            "ispublic": str(self.cloud.config.stemcell_public_visibility).lower(),
            "passwordenabled": "false",
            "bits": 64,
        }

    def wait_ready(self, template_id: str, zone: Zone, operation: str) -> dict[str, Any]:
        """Poll until the template is ready in `zone`; a status naming an error fails at once."""
        timeout = self.cloud.config.timeout(operation)
        deadline = time.monotonic() + timeout
        delay = 0.1
        while True:
            template = self.cloud.client.find_one("listTemplates", templatefilter="self", id=template_id, zoneid=zone.id)
            if template and template.get("isready"):
                return template
            status = str((template or {}).get("status") or "")
            if re.search(r"error|fail|abandon", status, re.IGNORECASE):
                raise CloudError(f"template {template_id} for stemcell {self.display_text} failed in zone {zone.name}: {status}")
            if time.monotonic() + delay > deadline:
                raise CloudError(f"{operation} timed out after {timeout:.0f}s: template {template_id} not ready "
                                 f"in zone {zone.name} (status: {status or 'unknown'})", ok_to_retry=True)
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)


def os_type_candidates(props: dict[str, Any], configured: str | None) -> list[str]:
    """OS type descriptions to try, best first: the configured one, the stemcell's Ubuntu release, generic ones."""
    candidates = [configured] if configured else []
    text = " ".join(str(props.get(k, "")) for k in ("name", "os_version", "operating_system", "os_distro")).lower()
    for codename, release in UBUNTU_RELEASES.items():
        if codename in text:
            candidates += [f"Ubuntu {release} (64-bit)", f"Ubuntu {release} LTS (64-bit)"]
            break
    return candidates + ["Other Ubuntu (64-bit)", "Other Linux (64-bit)", "Other PV (64-bit)"]


def hypervisor_for(cloud: Cloud, props: dict[str, Any], info: ImageInfo, zone: Zone) -> str:
    """The stemcell's declared hypervisor, else the zone's only one, else what the image format implies."""
    declared = HYPERVISORS.get(str(props.get("hypervisor", "")).lower())
    if declared:
        return declared
    available = [h.get("name") for h in cloud.client.list("listHypervisors", zoneid=zone.id)]
    if len(available) == 1 and available[0]:
        return available[0]
    return FORMAT_HYPERVISORS[info.cloudstack_format]


def delete_template_quietly(cloud: Cloud, template_id: str) -> None:
    try:
        cloud.run("deleteTemplate", "delete_template", id=template_id)
    except Exception as exc:  # the original error matters more
        log.warning("could not delete template %s after a failure: %s", template_id, exc)
