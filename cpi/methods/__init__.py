"""The method table and a thin dispatcher (in the manner of bosh-cpi-go's JSON dispatcher).

Arguments are checked against the table before the implementing module is imported, so a wrong call never loads
the HTTP stack. Each implementation takes the per-call `Cloud` first, then the positional arguments.
"""
from __future__ import annotations

import importlib
from collections import namedtuple
from typing import Any, Callable

from cpi.protocol import CpiError, NotImplementedCpiError, NotSupported, Request

STR, INT, DICT, LIST = (str,), (int,), (dict,), (list,)


# namedtuples rather than dataclasses: this module loads for every call, and dataclasses costs ~5 ms of imports.
Arg = namedtuple("Arg", "name types optional", defaults=(False,))  # optional: may be omitted (trailing) or null
Method = namedtuple("Method", "module function args needs_config")


def _m(module: str, function: str, *args: Arg, needs_config: bool = True) -> Method:
    return Method(f"cpi.methods.{module}", function, args, needs_config)


VM, DISK = Arg("vm_cid", STR), Arg("disk_cid", STR)
METHODS: dict[str, Method] = {
    "info": _m("info", "info", needs_config=False),
    "create_stemcell": _m("stemcell", "create_stemcell", Arg("image_path", STR), Arg("cloud_properties", DICT),
                          Arg("env", DICT, optional=True)),
    "delete_stemcell": _m("stemcell", "delete_stemcell", Arg("stemcell_cid", STR)),
    "create_vm": _m("vm", "create_vm", Arg("agent_id", STR), Arg("stemcell_cid", STR), Arg("cloud_properties", DICT),
                    Arg("networks", DICT), Arg("disk_cids", LIST, optional=True), Arg("environment", DICT, optional=True)),
    "delete_vm": _m("vm", "delete_vm", VM),
    "has_vm": _m("vm", "has_vm", VM),
    "reboot_vm": _m("vm", "reboot_vm", VM),
    "set_vm_metadata": _m("metadata", "set_vm_metadata", VM, Arg("metadata", DICT)),
    "set_disk_metadata": _m("metadata", "set_disk_metadata", DISK, Arg("metadata", DICT)),
    "calculate_vm_cloud_properties": _m("calculate", "calculate_vm_cloud_properties", Arg("vm_resources", DICT)),
    "create_disk": _m("disk", "create_disk", Arg("size", INT), Arg("cloud_properties", DICT, optional=True),
                      Arg("vm_cid", STR, optional=True)),
    "delete_disk": _m("disk", "delete_disk", DISK),
    "has_disk": _m("disk", "has_disk", DISK),
    "attach_disk": _m("disk", "attach_disk", VM, DISK),
    "detach_disk": _m("disk", "detach_disk", VM, DISK),
    "get_disks": _m("disk", "get_disks", VM),
    "resize_disk": _m("disk", "resize_disk", DISK, Arg("new_size", INT)),
    "snapshot_disk": _m("snapshot", "snapshot_disk", DISK, Arg("metadata", DICT, optional=True)),
    "delete_snapshot": _m("snapshot", "delete_snapshot", Arg("snapshot_cid", STR)),
}
# v1 configure_networks: NotSupported makes the director recreate the VM, which is what we want.
UNSUPPORTED = {"configure_networks"}


def check_arguments(name: str, method: Method, arguments: list[Any]) -> list[Any]:
    """Validate count and types; pad omitted optional trailing arguments with None."""
    required = sum(1 for a in method.args if not a.optional)
    if not required <= len(arguments) <= len(method.args):
        expected = ", ".join(a.name + ("?" if a.optional else "") for a in method.args) or "none"
        raise CpiError(f"{name}: wrong number of arguments: got {len(arguments)}, expected ({expected})")
    padded = list(arguments) + [None] * (len(method.args) - len(arguments))
    for arg, value in zip(method.args, padded):
        if value is None and arg.optional:
            continue
        if isinstance(value, bool) or not isinstance(value, arg.types):
            wanted = " or ".join(_JSON_NAMES[t] for t in arg.types)
            raise CpiError(f"{name}: argument {arg.name} must be {wanted}, got {_json_type(value)}")
    return padded


def resolve(request: Request) -> tuple[Method, list[Any]]:
    if request.method in UNSUPPORTED:
        raise NotSupported(f"{request.method} is not supported; the director recreates the VM instead")
    method = METHODS.get(request.method)
    if method is None:
        raise NotImplementedCpiError(f"Must call implemented method: unknown method '{request.method}'")
    return method, check_arguments(request.method, method, request.arguments)


def load(method: Method) -> Callable[..., Any]:
    return getattr(importlib.import_module(method.module), method.function)


_JSON_NAMES = {str: "a string", int: "an integer", dict: "an object", list: "an array"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a number"
    return _JSON_NAMES.get(type(value), type(value).__name__)
