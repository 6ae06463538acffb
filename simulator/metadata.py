"""The per-VM metadata service a CloudStack virtual router serves at http://data-server./latest/...

URL schemes (plain GET, no signature, like the real one):
- `/_sim/metadata/<vm uuid>/latest/<item>`: the named VM's data.
- `/latest/<item>`: the VM asking. It is the one named by an `X-Sim-VM-Id` header, else the VM whose guest or
  static-NAT public IP is the client's address, else — for requests from a loopback address — the host VM
  (see simulator/devices.py). 404 when no VM matches.

Items: `user-data` (decoded), `meta-data/` (a list of the names), `meta-data/<name>` and, as the VR does for older
clients, `<name>` directly: service-offering, availability-zone, local-ipv4, local-hostname, public-ipv4,
public-hostname, instance-id (the instance name, i-2-201-VM), vm-id (the VM uuid), cloud-identifier,
public-keys.
"""
from __future__ import annotations

import base64
import ipaddress
from typing import TYPE_CHECKING, Any

from . import networking
from .devices import host_vm
from .registry import Ctx, HttpRequest, HttpResponse, route
from .sshkeys import public_key_of

if TYPE_CHECKING:
    from .context import SimContext

ITEMS = ("service-offering", "availability-zone", "local-ipv4", "local-hostname", "public-ipv4",
         "public-hostname", "instance-id", "vm-id", "cloud-identifier", "public-keys")


def _text(status: int, text: str) -> HttpResponse:
    return HttpResponse(status, text.encode(), "text/plain; charset=UTF-8")


def _live_vm(sim: "SimContext", vm_id: str | None) -> dict[str, Any] | None:
    vm = sim.store.get("virtualmachine", vm_id)
    return None if vm is None or vm.get("_removed") else vm


def _vm_by_client(sim: "SimContext", request: HttpRequest) -> dict[str, Any] | None:
    if request.headers.get("x-sim-vm-id"):
        return _live_vm(sim, request.headers["x-sim-vm-id"])
    for vm in sim.store.all("virtualmachine"):
        if not vm.get("_removed") and any(n.get("ipaddress") == request.client_ip for n in vm.get("nic") or []):
            return vm
    for ip in sim.store.find("publicipaddress", ipaddress=request.client_ip, isstaticnat=True):
        vm = _live_vm(sim, ip.get("virtualmachineid"))
        if vm is not None:
            return vm
    try:
        loopback = ipaddress.ip_address(request.client_ip).is_loopback
    except ValueError:
        loopback = False
    return host_vm(sim) if loopback else None


def _public_ipv4(ctx: Ctx, vm: dict[str, Any], nic: dict[str, Any]) -> str:
    """Static NAT address, else the network's source-NAT address ("first public IP for the router"), else, in a
    Basic zone, the guest address itself."""
    ip = networking.public_ip_of(ctx, vm)
    if ip is None:
        ip = ctx.store.first("publicipaddress", associatednetworkid=nic.get("networkid"), issourcenat=True)
    return ip["ipaddress"] if ip else nic.get("ipaddress", "")


def _item(ctx: Ctx, vm: dict[str, Any], name: str) -> str | None:
    nic = next((n for n in vm.get("nic") or [] if n.get("isdefault")), (vm.get("nic") or [{}])[0])
    if name == "service-offering":
        offering = ctx.store.get("serviceoffering", vm["serviceofferingid"]) or {}
        return offering.get("displaytext", vm.get("serviceofferingname"))
    if name == "availability-zone":
        return vm["zonename"]
    if name == "local-ipv4":
        return nic.get("ipaddress", "")
    if name == "local-hostname":
        return vm["name"]
    if name in ("public-ipv4", "public-hostname"):
        return _public_ipv4(ctx, vm, nic)
    if name == "instance-id":
        return vm["instancename"]
    if name == "vm-id":
        return vm["id"]
    if name == "cloud-identifier":
        return f"CloudStack-{{{ctx.store.first('zone')['zonetoken']}}}"
    if name == "public-keys":
        keys = [public_key_of(ctx, k) for k in (vm.get("keypairs") or "").split(",") if k]
        return "\n".join(k for k in keys if k)
    return None


def _answer(sim: "SimContext", vm: dict[str, Any] | None, path: str) -> HttpResponse:
    if vm is None:
        return _text(404, "Not Found")
    ctx = Ctx(sim, sim.spec.command("listVirtualMachines"), "GET")
    path = path.strip("/")
    if path == "user-data":
        data = vm.get("_userdata")
        return _text(200, base64.b64decode(data).decode("utf-8", "replace")) if data else _text(404, "Not Found")
    if path in ("meta-data", ""):
        return _text(200, "\n".join(ITEMS))
    name = path[len("meta-data/"):] if path.startswith("meta-data/") else path
    value = _item(ctx, vm, name) if name in ITEMS else None
    return _text(404, "Not Found") if value is None else _text(200, value)


@route("GET", "/_sim/metadata/")
def metadata_by_id(sim: "SimContext", request: HttpRequest) -> HttpResponse:
    vm_id, _, rest = request.path[len("/_sim/metadata/"):].partition("/")
    if not rest.startswith("latest"):
        return _text(404, "Not Found")
    with sim.store.lock:
        return _answer(sim, _live_vm(sim, vm_id), rest[len("latest"):])


@route("GET", "/latest")
def metadata_of_caller(sim: "SimContext", request: HttpRequest) -> HttpResponse:
    with sim.store.lock:
        return _answer(sim, _vm_by_client(sim, request), request.path[len("/latest"):])
