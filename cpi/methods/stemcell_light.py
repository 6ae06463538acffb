"""Light stemcells: the stemcell names a template that already exists in CloudStack, and no image is uploaded.

The property is `light_template` (a template name or id), the name the other CloudStack CPIs read from the
stemcell's cloud_properties (cloudfoundry-community/bosh-cloudstack-cpi-core: CPIAdapterImpl, `light_template`;
orange-cloudfoundry/bosh-cpi-cloudstack: action/ CloudStackCloudProperties.LightTemplate, refused there as "not
handling light stemcell yet"). The template must be ready in every zone the CPI serves; it is not the CPI's, so the
cid `<template id>:light` is never deleted by delete_stemcell (stemcell_refs).
"""
from __future__ import annotations

import logging
import re
from typing import Any

from cpi.methods import stemcell_refs
from cpi.methods.cloud import Cloud
from cpi.methods.stemcell_checks import hypervisor_for
from cpi.networks import Zone
from cpi.protocol import CloudError

log = logging.getLogger("cpi.stemcell")

LIGHT_TEMPLATE = "light_template"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def is_light(props: dict[str, Any]) -> bool:
    return bool(props.get(LIGHT_TEMPLATE))


def create_light_stemcell(cloud: Cloud, props: dict[str, Any], zones: list[Zone]) -> str:
    """The cid of the existing template the light stemcell names, after checking it in every zone."""
    wanted = str(props[LIGHT_TEMPLATE])
    template_id = None
    for zone in zones:
        hypervisor = hypervisor_for(cloud, props, None, zone) if props.get("hypervisor") else None
        found = _find(cloud, wanted, zone)
        if not found.get("isready"):
            raise CloudError(f"light stemcell template {wanted} is not ready in zone {zone.name} "
                             f"(status: {found.get('status') or 'unknown'})", ok_to_retry=True)
        if hypervisor and str(found.get("hypervisor", "")).lower() != hypervisor.lower():
            raise CloudError(f"light stemcell template {wanted} is a {found.get('hypervisor')} template, but the "
                             f"stemcell is for {hypervisor}")
        if template_id not in (None, found["id"]):
            raise CloudError(f"light stemcell template name {wanted} names different templates in different zones "
                             f"({template_id}, {found['id']}); name it by id")
        template_id = found["id"]
    assert template_id is not None
    log.info("light stemcell: using existing template %s (%s)", template_id, wanted)
    return stemcell_refs.cid_for(template_id, stemcell_refs.LIGHT_TOKEN)


def _find(cloud: Cloud, wanted: str, zone: Zone) -> dict[str, Any]:
    by = {"id": wanted} if _UUID.match(wanted) else {"name": wanted}
    found = [t for t in cloud.client.list_found("listTemplates", templatefilter="executable", zoneid=zone.id, **by)
             if "name" not in by or t.get("name") == wanted]  # CloudStack matches names by substring
    if not found:
        raise CloudError(f"light stemcell template {wanted} not found in zone {zone.name}: it must exist there and "
                         "be executable by this account (its own, public or featured)")
    if len({t["id"] for t in found}) > 1:
        raise CloudError(f"light stemcell template name {wanted} matches {len(found)} templates in zone {zone.name}; "
                         "name it by id")
    return found[0]
