"""A virtual machine as API answers show it (list, deploy and every VM job): shared by the VM and affinity group
commands."""
from __future__ import annotations

from typing import Any

from .networking import public_ip_of
from .registry import Ctx, public


def vm_view(ctx: Ctx, vm: dict[str, Any], *, with_user_data: bool = False) -> dict[str, Any]:
    view = public(vm)
    ip = public_ip_of(ctx, vm)
    if ip is not None:
        view.update(publicip=ip["ipaddress"], publicipid=ip["id"])
    view["tags"] = ctx.tags_of(vm["id"])
    if with_user_data and vm.get("_userdata"):
        view["userdata"] = vm["_userdata"]
    return public(view)
