"""Templates: list, register (download from a loopback URL), upload, create from a snapshot or volume, copy,
update, delete.

A template record is stored once with `_zoneids`, the zones it is available in; lists and job results show one
object per zone, as CloudStack does. Bytes: `_sha256`/`_size` name the blob (see simulator/blobs.py).
Seeded templates stand for the system account's templates: they are never "self".
"""
from __future__ import annotations

from typing import Any

from .. import limits
from ..clock import now_str
from ..devices import content_of
from ..downloads import Download, check_format_suffix, check_url, parse_checksum, resume_downloads
from ..errors import param_error
from ..registry import Ctx, command, filter_common, public, remove_tags_of
from ..shapes import creation_job
from ..store import new_id
from ..uploads import upload_params

FILTERS = ("featured", "self", "selfexecutable", "sharedexecutable", "executable", "community", "all")
# com.cloud.storage.Storage.ImageFormat and com.cloud.hypervisor.Hypervisor.HypervisorType (4.18)
IMAGE_FORMATS = ("QCOW2", "RAW", "VHD", "VHDX", "OVA", "ISO", "BAREMETAL", "VMDK", "VDI", "TAR", "ZIP", "DIR")
HYPERVISORS = ("XenServer", "KVM", "VMware", "Hyperv", "VirtualBox", "Parralels", "BareMetal", "Simulator", "Ovm",
               "Ovm3", "LXC", "Custom", "Any")


# --- shared helpers (also used by virtual machines) ----------------------------------------------------------
def zones_of(template: dict[str, Any]) -> list[str]:
    return list(template.get("_zoneids") or [template["zoneid"]])


def render(ctx: Ctx, template: dict[str, Any], zone_id: str | None = None) -> dict[str, Any]:
    """The API object of a template in one zone (its first zone by default)."""
    zone_id = zone_id or zones_of(template)[0]
    zone = ctx.store.get("zone", zone_id)
    view = public(template)
    view["zoneid"] = zone_id
    view["zonename"] = zone["name"] if zone else None
    view["tags"] = ctx.tags_of(template["id"])
    return public(view)


def usable_in_zone(template: dict[str, Any], zone_id: str) -> bool:
    return template.get("crossZones") or zone_id in zones_of(template)


def _own(ctx: Ctx, template: dict[str, Any]) -> bool:
    return not template.get("_seed") and template.get("_accountid") == ctx.owner()["_accountid"]


def _matches_filter(ctx: Ctx, template: dict[str, Any], flt: str) -> bool:
    own, ready = _own(ctx, template), bool(template.get("isready"))
    if flt == "featured":
        return bool(template.get("isfeatured"))
    if flt == "self":
        return own
    if flt == "selfexecutable":
        return own and ready
    if flt == "sharedexecutable":
        return False  # one account: nothing is shared with it by others
    if flt == "executable":
        return ready and (own or template.get("ispublic") or template.get("isfeatured"))
    if flt == "community":
        return bool(template.get("ispublic")) and not template.get("isfeatured")
    return True  # all (the simulator's account is an administrator)


def _check_format_and_hypervisor(p: dict[str, Any]) -> tuple[str, str]:
    fmt = p["format"].upper()
    if fmt not in IMAGE_FORMATS:
        raise param_error(f"Image format: {p['format']} is incorrect. Supported formats are "
                          f"{', '.join(IMAGE_FORMATS)}")
    hypervisor = next((h for h in HYPERVISORS if h.lower() == p["hypervisor"].lower()), None)
    if hypervisor is None:
        raise param_error(f"Hypervisor Type: {p['hypervisor']} is invalid. Supported Hypervisor types are "
                          f"{', '.join(HYPERVISORS)}")
    return fmt, hypervisor


def _ostype(ctx: Ctx, p: dict[str, Any], required: bool) -> dict[str, Any] | None:
    if "ostypeid" not in p:
        if required:
            raise param_error(f"Unable to execute API command {ctx.command.short_name} due to missing parameter "
                              "ostypeid")
        return ctx.store.first("ostype", description="Other Linux (64-bit)")
    return ctx.lookup("ostype", p, "ostypeid")


def _target_zones(ctx: Ctx, p: dict[str, Any]) -> tuple[list[str], bool]:
    """Zones of a new template and whether it is cross-zone (zoneid -1)."""
    wanted = list(p.get("zoneids") or []) or ([p["zoneid"]] if p.get("zoneid") else [])
    if not wanted or "-1" in wanted:
        return [z["id"] for z in ctx.store.all("zone")], True
    for zid in wanted:
        if ctx.store.get("zone", zid) is None:
            raise ctx.invalid_id("zoneid", zid)
    return wanted, False


def _new_template(ctx: Ctx, p: dict[str, Any], *, fmt: str, hypervisor: str, zone_ids: list[str], cross: bool,
                  ostype: dict[str, Any] | None, status: str, **extra: Any) -> dict[str, Any]:
    limits.check(ctx.store, ctx.account, "template")   # TemplateAdapterBase.prepare / TemplateManagerImpl
    template = {
        "id": new_id(), "name": p["name"], "displaytext": p.get("displaytext") or p["name"],
        "ispublic": bool(p.get("ispublic")), "isfeatured": bool(p.get("isfeatured")),
        "isextractable": bool(p.get("isextractable")), "isready": False, "status": status,
        "passwordenabled": bool(p.get("passwordenabled")), "sshkeyenabled": bool(p.get("sshkeyenabled")),
        "format": fmt, "hypervisor": hypervisor, "ostypeid": ostype["id"] if ostype else None,
        "ostypename": ostype["description"] if ostype else None, "templatetype": "USER",
        "crossZones": cross, "created": now_str(), "bits": p.get("bits", 64),
        "requireshvm": p.get("requireshvm", True), "isdynamicallyscalable": bool(p.get("isdynamicallyscalable")),
        "directdownload": bool(p.get("directdownload")), "deployasis": False, "bootable": True,
        "templatetag": p.get("templatetag"), "details": _details(p.get("details")),
        "hasannotations": False, **extra, **ctx.owner(), "_zoneids": zone_ids,
    }
    return ctx.store.add("template", template)


def _details(details: list[dict[str, str]] | None) -> dict[str, str] | None:
    if not details:
        return None
    merged: dict[str, str] = {}
    for entry in details:
        merged.update(entry)
    return merged


# --- commands ------------------------------------------------------------------------------------------------
@command("listTemplates")
def list_templates(ctx: Ctx, p: dict) -> dict:
    flt = p["templatefilter"].lower()
    if flt not in FILTERS:
        raise param_error(f"Invalid template filter {p['templatefilter']}: use one of {', '.join(FILTERS)}")
    resume_downloads(ctx.sim)
    by_zone = p.pop("zoneid", None)
    items = []
    for template in filter_common(ctx, ctx.store.all("template"), p):
        if template.get("format") == "ISO" or not _matches_filter(ctx, template, flt):
            continue
        if "hypervisor" in p and template["hypervisor"].lower() != p["hypervisor"].lower():
            continue
        for zone_id in zones_of(template):
            if by_zone is None or zone_id == by_zone:
                items.append(render(ctx, template, zone_id))
    return ctx.listing("template", items, p)


@command("registerTemplate")
def register_template(ctx: Ctx, p: dict) -> dict:
    fmt, hypervisor = _check_format_and_hypervisor(p)
    check_url(p["url"])
    check_format_suffix(p["url"], fmt)
    parse_checksum(p.get("checksum"))
    zone_ids, cross = _target_zones(ctx, p)
    template = _new_template(ctx, p, fmt=fmt, hypervisor=hypervisor, zone_ids=zone_ids, cross=cross,
                             ostype=_ostype(ctx, p, required=False), status="0% Downloaded",
                             url=p["url"], checksum=p.get("checksum"), _url=p["url"],
                             _checksum=p.get("checksum"), _downloading=True)
    ctx.store.save()
    Download(ctx.sim, template["id"]).start()
    return {"count": len(zone_ids), "template": [render(ctx, template, z) for z in zone_ids]}


@command("getUploadParamsForTemplate")
def get_upload_params_for_template(ctx: Ctx, p: dict) -> dict:
    fmt, hypervisor = _check_format_and_hypervisor(p)
    parse_checksum(p.get("checksum"))
    zone_ids, cross = _target_zones(ctx, p)
    # TemplateAdapterBase.prepare(GetUploadParamsForTemplateCmd): BooleanUtils.toBoolean(cmd.getRequiresHvm()), so
    # false when left out (registerTemplate and createTemplate default it to true).
    template = _new_template(ctx, {"requireshvm": False, **p}, fmt=fmt, hypervisor=hypervisor, zone_ids=zone_ids,
                             cross=cross, ostype=_ostype(ctx, p, required=False), status="NotUploaded",
                             checksum=p.get("checksum"), _checksum=p.get("checksum"))
    return {"getuploadparams": upload_params(ctx.sim, template)}


@command("createTemplate")
def create_template(ctx: Ctx, p: dict) -> dict:
    volume_id, snapshot_id = p.get("volumeid"), p.get("snapshotid")
    if volume_id is None and snapshot_id is None:
        raise param_error("Failed to create private template record, neither volume ID nor snapshot ID were "
                          "specified.")
    if volume_id is not None and snapshot_id is not None:
        raise param_error(f"Failed to create private template record, please specify only one of volume ID "
                          f"({volume_id}) and snapshot ID ({snapshot_id})")
    ostype = ctx.lookup("ostype", p, "ostypeid")
    if volume_id is not None:
        source = ctx.store.get("volume", volume_id)
        if source is None or source.get("_removed"):
            raise param_error(f"Failed to create private template record, unable to find volume {volume_id}")
        vm = ctx.store.get("virtualmachine", source.get("virtualmachineid"))
        if vm is not None and vm["state"] != "Stopped":
            raise param_error(f"Unable to create private template for volume: {source['name']}; volume is attached "
                              "to a non-stopped VM, please stop the VM first")
        zone_id = source["zoneid"]
    else:
        source = ctx.lookup("snapshot", p, "snapshotid")
        if source.get("state") != "BackedUp":
            raise param_error(f"Snapshot {snapshot_id} is not in BackedUp state yet and cannot be used for template "
                              "creation")
        zone_id = source["zoneid"]
    zone = ctx.store.get("zone", zone_id)
    template = _new_template(ctx, p, fmt="QCOW2" if zone["_hypervisor"] == "KVM" else "VHD",
                             hypervisor=zone["_hypervisor"], zone_ids=[zone_id], cross=False, ostype=ostype,
                             status="Processing", sourcetemplateid=None)
    # The template the volume (or the snapshot's volume) was made from.
    template["sourcetemplateid"] = source.get("templateid") if volume_id is not None else source.get("_templateid")

    def work() -> dict:
        if volume_id is not None:
            sha, size = content_of(ctx.sim, source)
            virtual = source["size"]
        else:
            sha, size = source["_sha256"], source["_size"]
            virtual = source.get("virtualsize", size)
        # CloudStack records the new template's checksum; 4.18 accepts algorithm-prefixed digests.
        template.update(isready=True, status="Download Complete", size=virtual, physicalsize=size,
                        checksum="{SHA-256}" + sha, _sha256=sha, _size=size)
        return render(ctx, template)
    return creation_job(ctx, "template", template, result_key="template", instance_type="Template",
                        operation="create_template", work=work)


@command("copyTemplate")
def copy_template(ctx: Ctx, p: dict) -> dict:
    template = ctx.lookup("template", p, "id")
    dest = list(p.get("destzoneids") or []) + ([p["destzoneid"]] if p.get("destzoneid") else [])
    if not dest:
        raise param_error("Please specify valid destination zone(s).")
    for zid in dest:
        if ctx.store.get("zone", zid) is None:
            raise ctx.invalid_id("destzoneid", zid)
    source_zone = p.get("sourcezoneid") or zones_of(template)[0]
    if source_zone in dest:
        raise param_error("Please specify different source and destination zones.")
    if source_zone not in zones_of(template):
        raise param_error(f"Template {template['name']} is not present in the source zone {source_zone}")
    if not template.get("isready"):
        raise param_error(f"Template {template['name']} is not ready to be copied: its status is "
                          f"{template.get('status')}")

    def work() -> dict:
        zones = zones_of(template)
        template["_zoneids"] = zones + [z for z in dest if z not in zones]
        return render(ctx, template, dest[0])
    return ctx.job(result_key="template", work=work, operation="copy_template", instance_type="Template",
                   instance_id=template["id"])


@command("updateTemplate")
def update_template(ctx: Ctx, p: dict) -> dict:
    template = ctx.lookup("template", p, "id")
    if "ostypeid" in p:
        ostype = ctx.lookup("ostype", p, "ostypeid")
        template.update(ostypeid=ostype["id"], ostypename=ostype["description"])
    for field in ("name", "displaytext", "passwordenabled", "sshkeyenabled", "bootable", "isdynamicallyscalable",
                  "requireshvm", "templatetag"):
        if field in p:
            template[field] = p[field]
    if p.get("details"):
        template["details"] = _details(p["details"])
    return {"template": render(ctx, template)}


@command("deleteTemplate")
def delete_template(ctx: Ctx, p: dict) -> dict:
    template = ctx.lookup("template", p, "id")
    zone_id = p.get("zoneid")
    if zone_id is not None and zone_id not in zones_of(template):
        raise param_error(f"Template {template['id']} is not available in zone {zone_id}")

    def work() -> None:
        users = [vm for vm in ctx.store.find("virtualmachine", templateid=template["id"])
                 if not vm.get("_removed") and (zone_id is None or vm["zoneid"] == zone_id)]
        if users and not p.get("forced"):
            names = ",".join(vm["instancename"] for vm in users)
            raise param_error(f"Unable to delete template with id: {template['id']} because VM instances: "
                              f"[{names}] are using it.")
        remaining = [z for z in zones_of(template) if zone_id is not None and z != zone_id]
        if remaining:
            template["_zoneids"] = remaining
            return None
        ctx.store.remove("template", template["id"])
        remove_tags_of(ctx, template["id"])
        return None
    return ctx.job(result_key=None, work=work, operation="delete_template", instance_type="Template",
                   instance_id=template["id"])

