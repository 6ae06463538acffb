"""create_stemcell and delete_stemcell.

A stemcell becomes a CloudStack template, tagged with the sha256 of the `image` file: uploading the same stemcell
again reuses the template (copied to any configured zone still missing it) instead of sending gigabytes twice.
Every call still answers its own cid, a reference counted on the template (stemcell_refs): the template goes with
its last reference.
Three ways to make the template, chosen by `cloudstack.stemcell_upload` (auto by default):
- url (A): registerTemplate with a URL: the stemcell's `image_url` cloud property, or the CPI serves the inner image
  itself over HTTP while CloudStack downloads it (`stemcell_http_bind`/`stemcell_http_host`);
- volume (B): the CPI runs on a CloudStack VM: volume attached to itself, image written onto it, snapshot,
  createTemplate (see stemcell_volume);
- upload (C): getUploadParamsForTemplate and a multipart POST of the inner image.
auto: A when an image URL or an advertised HTTP host is configured, B when the metadata service names a VM of this
account, else C.
The `image` may be any layout bosh-linux-stemcell-builder or the other CPIs produce (cpi.stemcell.archive); a light
stemcell (`light_template` in its cloud_properties) names an existing template instead (stemcell_light). The
stemcell's infrastructure, architecture and hypervisor are checked against the zone first (stemcell_checks); in modes
A and C a disk format the hypervisor does not deploy is converted with qemu-img first (cpi.stemcell.convert).
"""
from __future__ import annotations

import logging
from typing import Any

from cpi.methods import stemcell_refs
from cpi.methods.cloud import Cloud
from cpi.methods.stemcell_checks import check_properties, upload_format
from cpi.methods.stemcell_light import create_light_stemcell, is_light
from cpi.methods.stemcell_template import Stemcell, delete_template_quietly
from cpi.methods.stemcell_upload import create_by_upload, create_by_url
from cpi.methods.stemcell_volume import create_by_volume_copy, own_vm
from cpi.methods.tags import set_tags
from cpi.networks import Zone
from cpi.protocol import CloudError
from cpi.stemcell import StemcellImageError, converted_image, inspect_image

log = logging.getLogger("cpi.stemcell")

DIGEST_TAG = "bosh-stemcell-sha256"
MAKERS = {"volume": create_by_volume_copy, "url": create_by_url, "upload": create_by_upload}


def choose_mode(cloud: Cloud, props: dict[str, Any]) -> str:
    mode = cloud.config.stemcell_upload
    if mode != "auto":
        return mode
    if props.get("image_url") or cloud.config.stemcell_http_host:
        return "url"
    if own_vm(cloud) is not None:
        return "volume"
    return "upload"


def _existing(cloud: Cloud, digest: str) -> dict[str, Any] | None:
    for template in cloud.client.list("listTemplates", templatefilter="self", tags=[{"key": DIGEST_TAG, "value": digest}]):
        if template.get("isready") and not stemcell_refs.is_deleting(template.get("tags")):
            return template
    return None


def _ensure_in_zones(stemcell: Stemcell, template_id: str, zones: list[Zone]) -> None:
    cloud = stemcell.cloud
    for zone in zones:
        if cloud.client.find_one("listTemplates", templatefilter="self", id=template_id, zoneid=zone.id):
            continue
        log.info("copying template %s to zone %s", template_id, zone.name)
        cloud.run("copyTemplate", "copy_template", id=template_id, sourcezoneid=stemcell.zone.id, destzoneid=zone.id)
        stemcell.wait_ready(template_id, zone, "copy_template")


def create_stemcell(cloud: Cloud, image_path: str, cloud_properties: dict[str, Any], env: dict[str, Any] | None) -> str:
    check_properties(cloud_properties)
    zones = [cloud.zone(name) for name in cloud.config.template_zones] or [cloud.zone()]
    if is_light(cloud_properties):
        return create_light_stemcell(cloud, cloud_properties, zones)
    try:
        info = inspect_image(image_path)
    except StemcellImageError as exc:
        raise CloudError(str(exc)) from None
    existing = _existing(cloud, info.archive_sha256)
    cid = stemcell_refs.acquire(cloud, existing) if existing else None
    try:
        if cid is not None:
            log.info("stemcell image %s already is template %s; reusing it as %s", info.archive_sha256[:12],
                     existing["id"], cid)
            home = cloud.zone_by_id(existing["zoneid"]) if existing.get("zoneid") else zones[0]
            stemcell = Stemcell(cloud, image_path, cloud_properties, info, home)
        else:
            mode, home = _mode_and_zone(cloud, cloud_properties, zones[0])
            stemcell = Stemcell(cloud, image_path, cloud_properties, info, home)
            convert_to = upload_format(cloud_properties, info.cloudstack_format, stemcell.hypervisor, mode)
            log.info("creating template %s (%s, requireshvm %s) from a %s image (%d bytes) by %s", stemcell.name,
                     stemcell.hypervisor, stemcell.requires_hvm, info.layout, info.size, mode)
            token = stemcell_refs.new_token()
            cid = stemcell_refs.cid_for(_make(stemcell, mode, token, convert_to), token)
        _ensure_in_zones(stemcell, stemcell_refs.template_id(cid), [z for z in zones if z.id != home.id])
    except Exception:
        if cid is not None:
            stemcell_refs.release_quietly(cloud, cid)  # deletes the template unless another reference came meanwhile
        raise
    return cid


def _mode_and_zone(cloud: Cloud, cloud_properties: dict[str, Any], first_zone: Zone) -> tuple[str, Zone]:
    """How to make a new template, and the zone it is made in (the CPI's own for volume copy)."""
    mode = choose_mode(cloud, cloud_properties)
    if mode != "volume":
        return mode, first_zone
    vm = own_vm(cloud)
    if vm is None:
        raise CloudError("stemcell_upload is volume but the metadata service names no VM of this account "
                         f"(tried {', '.join(cloud.config.metadata_urls)}); set cloudstack.metadata_url")
    return mode, cloud.zone_by_id(vm["zoneid"])


def _make(stemcell: Stemcell, mode: str, token: str, convert_to: str | None) -> str:
    cloud = stemcell.cloud
    try:  # a damaged image may show only mid-stream: still one clear CloudError
        if convert_to is None:
            template_id = MAKERS[mode](stemcell)
        else:
            log.info("converting the %s disk to %s for %s", stemcell.info.cloudstack_format, convert_to,
                     stemcell.hypervisor)
            fmt = convert_to.lower()  # cpi.stemcell's format names are CloudStack's, lower-cased
            with converted_image(stemcell.image_path, fmt, size=stemcell.info.size) as path:
                template_id = MAKERS[mode](stemcell.converted(path, fmt))
    except StemcellImageError as exc:
        raise CloudError(str(exc)) from None
    try:
        tags = {DIGEST_TAG: stemcell.info.archive_sha256, **stemcell_refs.creation_tags(cloud, token)}
        tags.update({f"bosh-stemcell-{k}": stemcell.props[k] for k in ("name", "version") if stemcell.props.get(k)})
        set_tags(cloud, "Template", template_id, tags)
    except Exception:
        delete_template_quietly(cloud, template_id)
        raise
    return template_id


def delete_stemcell(cloud: Cloud, stemcell_cid: str) -> None:
    stemcell_refs.release(cloud, stemcell_cid)
