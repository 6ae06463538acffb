"""Read-only infrastructure: zones, offerings, OS types, hypervisors, capabilities."""
from __future__ import annotations

from ..networking import service_view
from ..registry import Ctx, command, public
from ..shapes import ListShape, list_command, same


def offering_services(ctx: Ctx, items: list[dict], p: dict) -> list[dict]:
    """`supportedservices`: networks and network offerings having every service named."""
    if not p.get("supportedservices"):
        return items
    wanted = {s.lower() for s in p["supportedservices"]}
    return [i for i in items if wanted <= {s["name"].lower() for s in i.get("service", [])}]


list_command("listZones", ListShape(kind="zone", text=same("networktype")))
# System offerings (virtual routers, system VMs) are listed only when asked for.
list_command("listServiceOfferings", ListShape(
    kind="serviceoffering", equal=same("systemvmtype"),
    narrow=lambda ctx, items, p: [o for o in items if o["issystem"] == bool(p.get("issystem"))]))
list_command("listDiskOfferings", ListShape(kind="diskoffering"))
# Each service with its provider and capabilities, as the network using the offering shows it.
list_command("listNetworkOfferings", ListShape(
    kind="networkoffering", text=same("guestiptype", "state"), flags=same("forvpc"), narrow=offering_services,
    view=lambda ctx, o, p: o | {"service": [service_view(s["name"]) for s in o["service"]]}))
list_command("listOsTypes", ListShape(
    kind="ostype", equal=same("oscategoryid"),
    narrow=lambda ctx, items, p: [t for t in items if p.get("description", "").lower() in t["description"].lower()]))


@command("listHypervisors")
def list_hypervisors(ctx: Ctx, p: dict) -> dict:
    zones = [z for z in ctx.store.all("zone") if "zoneid" not in p or z["id"] == p["zoneid"]]
    names = sorted({z["_hypervisor"] for z in zones})
    return ctx.listing("hypervisor", [{"name": n} for n in names], p)


@command("listCapabilities")
def list_capabilities(ctx: Ctx, p: dict) -> dict:
    sg = any(z["securitygroupsenabled"] for z in ctx.store.all("zone"))
    return {"capability": public({
        "cloudstackversion": ctx.sim.spec.version, "securitygroupsenabled": sg,
        "userpublictemplateenabled": True, "customdiskofferingminsize": 1, "customdiskofferingmaxsize": 1024,
        "apilimitinterval": 1, "apilimitmax": 0, "kvmsnapshotenabled": True, "allowuserexpungerecovervm": True,
        "allowuserexpungerecovervolume": True, "allowusercreateprojects": True,
        "allowuserviewdestroyedvm": True, "allowuserviewalldomainaccounts": False, "dynamicrolesenabled": True,
        "defaultuipagesize": 20, "projectinviterequired": False, "regionsecondaryenabled": False,
        "supportELB": "false", "kubernetesserviceenabled": False, "kubernetesclusterexperimentalfeaturesenabled":
        False, "instancesstatsretentiontime": 720, "instancesstatsuseronly": False,
        "instancesdisksstatsretentionenabled": False, "instancesdisksstatsretentiontime": 720})}
