"""Read-only infrastructure: zones, offerings, OS types, hypervisors, capabilities."""
from __future__ import annotations

from ..networking import service_view
from ..registry import Ctx, command, filter_common, public


@command("listZones")
def list_zones(ctx: Ctx, p: dict) -> dict:
    zones = filter_common(ctx, ctx.store.all("zone"), p)
    if "networktype" in p:
        zones = [z for z in zones if z["networktype"].lower() == p["networktype"].lower()]
    return ctx.listing("zone", zones, p)


@command("listServiceOfferings")
def list_service_offerings(ctx: Ctx, p: dict) -> dict:
    offerings = filter_common(ctx, ctx.store.all("serviceoffering"), p)
    # System offerings (virtual routers, system VMs) are listed only when asked for.
    offerings = [o for o in offerings if o["issystem"] == bool(p.get("issystem"))]
    if "systemvmtype" in p:
        offerings = [o for o in offerings if o.get("systemvmtype") == p["systemvmtype"]]
    return ctx.listing("serviceoffering", offerings, p)


@command("listDiskOfferings")
def list_disk_offerings(ctx: Ctx, p: dict) -> dict:
    return ctx.listing("diskoffering", filter_common(ctx, ctx.store.all("diskoffering"), p), p)


@command("listNetworkOfferings")
def list_network_offerings(ctx: Ctx, p: dict) -> dict:
    offerings = filter_common(ctx, ctx.store.all("networkoffering"), p)
    if "guestiptype" in p:
        offerings = [o for o in offerings if o["guestiptype"].lower() == p["guestiptype"].lower()]
    if "state" in p:
        offerings = [o for o in offerings if o["state"].lower() == p["state"].lower()]
    if p.get("supportedservices"):
        wanted = {s.lower() for s in p["supportedservices"]}
        offerings = [o for o in offerings if wanted <= {s["name"].lower() for s in o["service"]}]
    if "forvpc" in p:
        offerings = [o for o in offerings if o["forvpc"] == p["forvpc"]]
    # Each service with its provider and capabilities, as the network using the offering shows it.
    return ctx.listing("networkoffering", [o | {"service": [service_view(s["name"]) for s in o["service"]]}
                                           for o in offerings], p)


@command("listOsTypes")
def list_os_types(ctx: Ctx, p: dict) -> dict:
    types = filter_common(ctx, ctx.store.all("ostype"), p)
    if "description" in p:
        types = [t for t in types if p["description"].lower() in t["description"].lower()]
    if "oscategoryid" in p:
        types = [t for t in types if t["oscategoryid"] == p["oscategoryid"]]
    return ctx.listing("ostype", types, p)


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
