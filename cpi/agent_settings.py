"""The bosh-agent settings document, delivered as deployVirtualMachine `userdata` (no registry).

The CloudStack stemcell's agent.json (cloudfoundry/bosh-linux-stemcell-builder
stemcell_builder/stages/bosh_cloudstack_agent_settings/apply.sh) has one settings source only: HTTP at
`http://169.254.169.254:39724` (mdproxy4cs, which forwards to the virtual router's metadata service),
`/latest/user-data`; there is no config drive source. The agent reads the user-data, parses it as JSON (or base64
then JSON) and takes the full settings from the top level, plus `server.name` and `dns.nameserver`. So the VM's
default network must offer the UserData service (create_vm checks it for named networks). CloudStack wants the
value base64-encoded; the request goes by POST because settings with mbus certificates are several KB.
"""
from __future__ import annotations

import base64
import json
from typing import Any

from cpi.config import AgentOptions
from cpi.protocol import CloudError

# CloudStack 4.18 accepts up to 1 MB of base64 user-data by POST (vm.userdata.max.length may lower it).
MAX_USERDATA = 1048576


def build_settings(
    *,
    agent_id: str,
    vm_name: str,
    vm_id: str | None,
    agent: AgentOptions,
    networks: dict[str, Any],
    system_disk: str,
    ephemeral_disk: Any,
    environment: dict[str, Any] | None,
) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "agent_id": agent_id,
        "vm": {"name": vm_name},
        "mbus": agent.mbus or "",
        "ntp": list(agent.ntp),
        "networks": networks,
        "disks": {"system": system_disk, "ephemeral": ephemeral_disk, "persistent": {}, "raw_ephemeral": None},
        "env": environment or {},
        "server": {"name": vm_name},
        "dns": {"nameserver": _nameservers(networks)},
    }
    if vm_id:
        settings["vm"]["id"] = vm_id
    if agent.blobstore:
        settings["blobstore"] = agent.blobstore
    return settings


def _nameservers(networks: dict[str, Any]) -> list[str]:
    """DNS servers of the network that carries BOSH's `dns` default (else the first network that has some)."""
    candidates = sorted(networks.values(), key=lambda spec: "dns" not in (spec.get("default") or []))
    for spec in candidates:
        if spec.get("dns"):
            return list(spec["dns"])
    return []


def encode_userdata(settings: dict[str, Any]) -> str:
    data = base64.b64encode(json.dumps(settings, separators=(",", ":"), sort_keys=True).encode()).decode()
    if len(data) > MAX_USERDATA:
        raise CloudError(f"agent settings are {len(data)} bytes in base64, over CloudStack's user-data limit ({MAX_USERDATA})")
    return data

