"""The template a stemcell becomes: its name, display text, OS type, hypervisor and the parameters every upload
mode shares (registerTemplate, getUploadParamsForTemplate, createTemplate), and waiting for it to be ready.

Shared by create_stemcell (cpi.methods.stemcell) and the upload modes (stemcell_upload, stemcell_volume), which
stemcell.py dispatches to: the one module all of them import, so none imports another.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
import os
import re
import time
from typing import Any

from cpi.methods import lookup
from cpi.methods.cloud import Cloud
from cpi.methods.stemcell_checks import hypervisor_for
from cpi.networks import Zone
from cpi.protocol import CloudError
from cpi.stemcell import ImageInfo

log = logging.getLogger("cpi.stemcell")

MAX_TEMPLATE_NAME = 32  # what CloudStack accepts in practice (all existing CPIs work around it)

UBUNTU_RELEASES = {
    "precise": "12.04", "trusty": "14.04", "xenial": "16.04", "bionic": "18.04", "focal": "20.04",
    "jammy": "22.04", "noble": "24.04",
}
#: requireshvm when cloudstack.stemcell_requires_hvm does not say: XenServer CloudStack stemcells boot
#: paravirtualised, as bosh-deployment's cloudstack/cpi.yml configures the Go CPI (stemcell.requires_hvm: false,
#: os_type "Other PV (64-bit)"); every other hypervisor runs them as HVM guests.
PV_HYPERVISORS = ("XenServer",)
PV_OS_TYPE = "Other PV (64-bit)"


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
        self.hypervisor = hypervisor_for(cloud, props, info.cloudstack_format, zone)
        self.requires_hvm = requires_hvm(cloud.config.stemcell_requires_hvm, self.hypervisor)
        self.os_type_id = lookup.os_type_id(
            cloud, os_type_candidates(props, cloud.config.stemcell_os_type, self.requires_hvm))

    def converted(self, image_path: str, fmt: str) -> Stemcell:
        """This stemcell with its disk replaced by a converted copy: a bare, uncompressed `fmt` disk at `image_path`."""
        twin = copy.copy(self)
        twin.image_path = image_path
        twin.info = dataclasses.replace(self.info, format=fmt, size=os.path.getsize(image_path), compression="none",
                                        container="bare", member_name=os.path.basename(image_path))
        return twin

    def template_params(self) -> dict[str, Any]:
        """What registerTemplate / getUploadParamsForTemplate / createTemplate share. `requireshvm` is always sent:
        left out, registerTemplate and createTemplate default it to true, getUploadParamsForTemplate to false."""
        return {
            "name": self.name,
            "displaytext": self.display_text[:4096],
            "ostypeid": self.os_type_id,
            "ispublic": str(self.cloud.config.stemcell_public_visibility).lower(),
            "passwordenabled": "false",
            "requireshvm": str(self.requires_hvm).lower(),
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


def requires_hvm(configured: bool | dict[str, bool] | None, hypervisor: str) -> bool:
    """requireshvm for a template on `hypervisor`: cloudstack.stemcell_requires_hvm (one value, or per hypervisor,
    names compared case-insensitively), else false on XenServer (PV stemcells) and true elsewhere."""
    if isinstance(configured, bool):
        return configured
    for name, value in (configured or {}).items():
        if name.lower() == hypervisor.lower():
            return bool(value)
    return hypervisor not in PV_HYPERVISORS


def os_type_candidates(props: dict[str, Any], configured: str | None, hvm: bool = True) -> list[str]:
    """OS type descriptions to try, best first: the configured one, then for a PV template the generic PV type
    (the OS type picks the hypervisor's guest template, so an HVM one would not boot it), else the stemcell's Ubuntu
    release and generic Linux types."""
    candidates = [configured] if configured else []
    if not hvm:
        return candidates + [PV_OS_TYPE]
    text = " ".join(str(props.get(k, "")) for k in ("name", "os_version", "operating_system", "os_distro")).lower()
    for codename, release in UBUNTU_RELEASES.items():
        if codename in text:
            candidates += [f"Ubuntu {release} (64-bit)", f"Ubuntu {release} LTS (64-bit)"]
            break
    return candidates + ["Other Ubuntu (64-bit)", "Other Linux (64-bit)"]


def delete_template_quietly(cloud: Cloud, template_id: str) -> None:
    try:
        cloud.run("deleteTemplate", "delete_template", id=template_id)
    except Exception as exc:  # the original error matters more
        log.warning("could not delete template %s after a failure: %s", template_id, exc)
