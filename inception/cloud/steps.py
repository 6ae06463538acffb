"""One step per CloudStack resource. A step finds its resource (by name, tag or attributes: read-only, so
`plan` can use it), creates it when absent, and says what to record.

The runner (runner.py) decides ownership and records; steps only talk to CloudStack. Parents are read from
`ctx.live(key)`, filled as steps complete (or, in a plan, as they are found).
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from inception.cloud.context import CloudContext
from inception.cloud.kinds import KINDS
from inception.config.loader import ConfigError, Problem


class Step:
    kind: str = ""
    reusable = True       # may use a same-named resource this environment did not create (never deleting it)
    immutable: tuple[str, ...] = ()   # spec() keys that cannot change in place

    def __init__(self, key: str, name: str | None = None, needs: tuple[str, ...] = ()):
        self.key, self.name, self.needs = key, name, needs

    @property
    def label(self) -> str:
        return f"{KINDS[self.kind].label} {self.name or self.key.split(':', 1)[-1]}"

    @property
    def tag_type(self) -> str | None:
        return KINDS[self.kind].tag_type

    def spec(self) -> dict[str, Any]:
        """Desired, non-secret attributes recorded with the resource (compared on the next run)."""
        return {}

    def check(self, ctx: CloudContext) -> None:
        """Read-only validation before anything is created (offerings, templates exist...)."""

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        """The live resource, or None. `adopting`: a create of ours may have happened (its result lost)."""
        raise NotImplementedError

    def conflict(self, ctx: CloudContext, live: dict[str, Any]) -> str | None:
        """Why the found resource cannot be used as it is (None: it can)."""
        return None

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        raise NotImplementedError

    def settle(self, ctx: CloudContext, live: dict[str, Any]) -> dict[str, Any]:
        """Wait until the resource is usable (a VM running); returns the fresh live object."""
        return live

    def resource_id(self, live: dict[str, Any]) -> str:
        return live["id"]

    def attrs(self, ctx: CloudContext, live: dict[str, Any]) -> dict[str, Any]:
        return self.spec()

    def parent(self, ctx: CloudContext, key: str) -> dict[str, Any] | None:
        return ctx.live(key)

    def parent_id(self, ctx: CloudContext, key: str) -> str | None:
        live = ctx.live(key)
        return live["id"] if live else None

    def _create_or_find(self, ctx: CloudContext, command: str, result_key: str, **params: Any) -> dict[str, Any]:
        return ctx.client.create_or_find(command, find=lambda: self.find(ctx, True), key=result_key,
                                         operation=f"create {self.label}", **params)


# -- keypair ----------------------------------------------------------------------------------------

def md5_fingerprint(public_line: str) -> str:
    """CloudStack's keypair fingerprint: MD5 of the decoded key blob, colon-separated hex."""
    digest = hashlib.md5(base64.b64decode(public_line.split()[1])).hexdigest()  # noqa: S324 - CloudStack's format
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def keypair_secret(name: str) -> str:
    return f"keypair-{name}.pem"


class KeypairStep(Step):
    """A keypair registered from a key generated here (private half saved before the API sees the public one,
    so no interruption can lose it) or imported from a public key file."""

    kind = "keypair"

    def __init__(self, key: str, name: str, public_key_file: str | None, base_dir: Path):
        super().__init__(key, name)
        self.public_key_file = public_key_file
        self.base_dir = base_dir

    def public_line(self, ctx: CloudContext, generate: bool) -> str | None:
        if self.public_key_file:
            path = (self.base_dir / self.public_key_file).expanduser()
            try:
                return path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(ctx.config.source, [Problem("inception.public_key_file", f"cannot read {path}: "
                                                              f"{exc.strerror}", "point it at an OpenSSH .pub file")])
        secret = keypair_secret(self.name or "")
        pem = ctx.state.dir.read_secret(secret)
        if pem is None:
            if not generate:
                return None
            key = ed25519.Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                    serialization.NoEncryption()).decode()
            ctx.state.dir.write_secret(secret, pem)
        private = serialization.load_ssh_private_key(pem.encode(), password=None)
        return private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                 serialization.PublicFormat.OpenSSH).decode()

    def spec(self) -> dict[str, Any]:
        return {"public_key_file": self.public_key_file} if self.public_key_file else {}

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        return ctx.client.find_one("listSSHKeyPairs", name=self.name)

    def conflict(self, ctx: CloudContext, live: dict[str, Any]) -> str | None:
        line = self.public_line(ctx, generate=False)
        if line is None:
            return "its private key is not in this state dir"
        if live.get("fingerprint") != md5_fingerprint(line):
            return "it holds another public key than " + (self.public_key_file or "the one in this state dir")
        return None

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        line = self.public_line(ctx, generate=True)
        return self._create_or_find(ctx, "registerSSHKeyPair", "keypair", name=self.name, publickey=line)

    def resource_id(self, live: dict[str, Any]) -> str:
        return live["name"]

    def attrs(self, ctx: CloudContext, live: dict[str, Any]) -> dict[str, Any]:
        return {**self.spec(), "fingerprint": live.get("fingerprint")}


# -- security groups (basic zones, advanced zones with security groups) --------------------------------

class SecurityGroupStep(Step):
    kind = "security_group"

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        groups = ctx.client.list("listSecurityGroups", securitygroupname=self.name)
        return next((g for g in groups if g.get("name") == self.name), None)

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        return self._create_or_find(ctx, "createSecurityGroup", "securitygroup", name=self.name,
                                    description=f"BOSH environment {ctx.env} (inception)")


class IngressRuleStep(Step):
    """One ingress rule: a port range from CIDRs, or from the members of a security group (`peer`)."""

    kind = "sg_ingress"

    def __init__(self, group_key: str, protocol: str, ports: tuple[int, int], *, cidr: str | None = None,
                 peer_key: str | None = None, peer: str | None = None):
        source = f"group:{peer}" if peer else cidr
        key = f"sg-rule:{group_key.split(':', 1)[1]}:{protocol}:{ports[0]}-{ports[1]}:{source}"
        super().__init__(key, f"{protocol.upper()} {ports[0]}-{ports[1]} from {source}",
                         (group_key,) + ((peer_key,) if peer_key and peer_key != group_key else ()))
        self.group_key, self.protocol, self.ports, self.cidr, self.peer = group_key, protocol, ports, cidr, peer

    @property
    def label(self) -> str:
        return f"ingress {self.name} into {self.group_key.split(':', 1)[1]}"

    def _matches(self, rule: dict[str, Any]) -> bool:
        if (str(rule.get("protocol", "")).lower(), rule.get("startport"), rule.get("endport")) != \
                (self.protocol, *self.ports):
            return False
        return rule.get("securitygroupname") == self.peer if self.peer else rule.get("cidr") == self.cidr

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        group_id = self.parent_id(ctx, self.group_key)
        if group_id is None:
            return None
        group = ctx.client.find_one("listSecurityGroups", id=group_id) or {}
        return next((r for r in group.get("ingressrule") or [] if self._matches(r)), None)

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        group = self.parent(ctx, self.group_key)
        assert group is not None
        source: dict[str, Any] = ({"usersecuritygrouplist": [{"account": group["account"], "group": self.peer}]}
                                  if self.peer else {"cidrlist": self.cidr})
        result = self._create_or_find(ctx, "authorizeSecurityGroupIngress", "securitygroup",
                                      securitygroupid=group["id"], protocol=self.protocol,
                                      startport=self.ports[0], endport=self.ports[1], **source)
        if "ruleid" in result:   # found after an unknown outcome: already the rule itself
            return result
        return next(r for r in result.get("ingressrule") or [] if self._matches(r))

    def resource_id(self, live: dict[str, Any]) -> str:
        return live["ruleid"]

    def attrs(self, ctx: CloudContext, live: dict[str, Any]) -> dict[str, Any]:
        return {"group_id": self.parent_id(ctx, self.group_key)}


# -- advanced zones: network, public IPs, NAT, firewall ---------------------------------------------

class NetworkStep(Step):
    kind = "network"
    immutable = ("cidr",)

    def __init__(self, key: str, name: str, cidr: str | None, gateway: str | None, offering: str):
        super().__init__(key, name)
        self.cidr, self.gateway, self.offering = cidr, gateway, offering

    def spec(self) -> dict[str, Any]:
        return {"cidr": self.cidr, "gateway": self.gateway}

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        networks = ctx.client.list("listNetworks", zoneid=ctx.zone_id)
        return next((n for n in networks if n.get("name") == self.name), None)

    def conflict(self, ctx: CloudContext, live: dict[str, Any]) -> str | None:
        if self.cidr and live.get("cidr") and live["cidr"] != self.cidr:
            return f"its cidr is {live['cidr']}, not {self.cidr} as in networks[].cidr"
        if live.get("type") and live["type"] != "Isolated":
            return f"it is a {live['type']} network; BOSH here needs an isolated one"
        return None

    def check(self, ctx: CloudContext) -> None:
        ctx.by_name("listNetworkOfferings", self.offering, "network offering", "inception.network_offering",
                    zoneid=ctx.zone_id, guestiptype="Isolated")

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        offering = ctx.by_name("listNetworkOfferings", self.offering, "network offering",
                               "inception.network_offering", zoneid=ctx.zone_id, guestiptype="Isolated")
        params: dict[str, Any] = {}
        if self.cidr:
            net = ipaddress.IPv4Network(self.cidr)
            params = {"gateway": self.gateway or str(net.network_address + 1), "netmask": str(net.netmask)}
        return self._create_or_find(ctx, "createNetwork", "network", name=self.name, zoneid=ctx.zone_id,
                                    displaytext=f"BOSH environment {ctx.env} (inception)",
                                    networkofferingid=offering["id"], **params)


class PublicIpStep(Step):
    """A public IP acquired for this environment, found again by its tags. An IP whose tagging was cut off
    (the run died between associateIpAddress and createTags) is adopted when it is the only untagged,
    unused, non-source-NAT address of the network.

    CloudStack makes the first address acquired on a network without a source NAT address its source NAT
    address, which cannot take static NAT. The network gets one when it is implemented, early in the job of
    its first VM deploy: so this step waits for that address to exist, not for the VM to be running (it
    runs beside the deploy; the VM step comes first in the list, so a sequential run never waits here)."""

    kind = "public_ip"

    def __init__(self, key: str, network_key: str, role: str, timeout: float):
        super().__init__(key, role, (network_key,))
        self.network_key, self.timeout = network_key, timeout

    def conflict(self, ctx: CloudContext, live: dict[str, Any]) -> str | None:
        return "it is the network's source NAT address" if live.get("issourcenat") else None

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        network_id = self.parent_id(ctx, self.network_key)
        if network_id is None:
            return None
        tagged = ctx.list_tagged("listPublicIpAddresses", self.key, associatednetworkid=network_id)
        if tagged or not adopting:
            return tagged[0] if tagged else None
        orphans = [ip for ip in ctx.client.list("listPublicIpAddresses", associatednetworkid=network_id)
                   if not ip.get("tags") and not ip.get("issourcenat") and not ip.get("isstaticnat")]
        return orphans[0] if len(orphans) == 1 else None

    def _wait_for_source_nat(self, ctx: CloudContext, network_id: str) -> None:
        services = (ctx.live(self.network_key) or {}).get("service")
        if services is not None and not any(s.get("name") == "SourceNat" for s in services):
            return   # an offering without source NAT: no address of the network ever becomes one
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        while not ctx.client.list("listPublicIpAddresses", associatednetworkid=network_id, issourcenat=True):
            if ctx.stopping.is_set():
                raise RuntimeError(f"{self.label}: not acquired, as another step failed")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.label}: the network still has no source NAT address after "
                                   f"{self.timeout:.0f} s (its first VM deploy gives it one)")
            ctx.stopping.wait(delay)
            delay = min(delay * 1.5, 2.0)

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        network_id = self.parent_id(ctx, self.network_key)
        assert network_id is not None
        self._wait_for_source_nat(ctx, network_id)
        return self._create_or_find(ctx, "associateIpAddress", "ipaddress", networkid=network_id)

    def attrs(self, ctx: CloudContext, live: dict[str, Any]) -> dict[str, Any]:
        return {"ipaddress": live.get("ipaddress")}


class ConfiguredIpStep(PublicIpStep):
    """A public IP the config names (director.public_ip). Held by the account already: used, never released.
    Not held yet: acquired on the director's network with associateIpAddress ipaddress= (after the network has
    its source NAT address, which a configured address must not become), and then the environment's like
    any other resource it created."""

    def __init__(self, key: str, address: str, config_key: str, network_key: str, timeout: float):
        super().__init__(key, network_key, address, timeout)
        self.address, self.config_key = address, config_key

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        found = ctx.client.list("listPublicIpAddresses", ipaddress=self.address)
        return next((ip for ip in found if ip.get("ipaddress") == self.address), None)

    def conflict(self, ctx: CloudContext, live: dict[str, Any]) -> str | None:
        network_id = self.parent_id(ctx, self.network_key)
        if live.get("issourcenat"):
            return f"{self.address} is the source NAT address of its network"
        if network_id and live.get("associatednetworkid") not in (None, network_id):
            return f"{self.address} is acquired for network {live.get('associatednetworkname')}, not the director's"
        return None

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        network_id = self.parent_id(ctx, self.network_key)
        assert network_id is not None
        self._wait_for_source_nat(ctx, network_id)
        return self._create_or_find(ctx, "associateIpAddress", "ipaddress", networkid=network_id,
                                    ipaddress=self.address)


class StaticNatStep(Step):
    kind = "static_nat"
    reusable = False

    def __init__(self, key: str, ip_key: str, vm_key: str):
        super().__init__(key, "inception VM", (ip_key, vm_key))
        self.ip_key, self.vm_key = ip_key, vm_key

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        ip_id = self.parent_id(ctx, self.ip_key)
        live = ctx.client.find_one("listPublicIpAddresses", id=ip_id) if ip_id else None
        return live if live and live.get("isstaticnat") else None

    def conflict(self, ctx: CloudContext, live: dict[str, Any]) -> str | None:
        vm_id = self.parent_id(ctx, self.vm_key)
        if live.get("virtualmachineid") != vm_id:
            return f"{live.get('ipaddress')} is NATed to VM {live.get('virtualmachineid')}"
        return None

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        self._create_or_find(ctx, "enableStaticNat", "success", ipaddressid=self.parent_id(ctx, self.ip_key),
                             virtualmachineid=self.parent_id(ctx, self.vm_key))
        live = self.find(ctx, True)
        if live is None:
            raise RuntimeError(f"enableStaticNat answered but {self.label} is not enabled")
        return live


class FirewallRuleStep(Step):
    kind = "firewall_rule"

    def __init__(self, ip_key: str, protocol: str, ports: tuple[int, int], cidr: str):
        super().__init__(f"fw:{ip_key.split(':', 1)[1]}:{protocol}:{ports[0]}-{ports[1]}:{cidr}",
                         f"{protocol.upper()} {ports[0]}-{ports[1]} from {cidr}", (ip_key,))
        self.ip_key, self.protocol, self.ports, self.cidr = ip_key, protocol, ports, cidr

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        ip_id = self.parent_id(ctx, self.ip_key)
        if ip_id is None:
            return None
        return next((r for r in ctx.client.list("listFirewallRules", ipaddressid=ip_id)
                     if str(r.get("protocol")).lower() == self.protocol
                     and (int(r.get("startport", -1)), int(r.get("endport", -1))) == self.ports
                     and self.cidr in str(r.get("cidrlist", "")).split(",")), None)

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        return self._create_or_find(ctx, "createFirewallRule", "firewallrule",
                                    ipaddressid=self.parent_id(ctx, self.ip_key), protocol=self.protocol,
                                    startport=self.ports[0], endport=self.ports[1], cidrlist=self.cidr)


class PortForwardingStep(Step):
    kind = "port_forwarding"

    def __init__(self, ip_key: str, vm_key: str, port: int):
        super().__init__(f"pf:{ip_key.split(':', 1)[1]}:tcp:{port}", f"TCP {port} to the inception VM",
                         (ip_key, vm_key))
        self.ip_key, self.vm_key, self.port = ip_key, vm_key, port

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        ip_id = self.parent_id(ctx, self.ip_key)
        if ip_id is None:
            return None
        return next((r for r in ctx.client.list("listPortForwardingRules", ipaddressid=ip_id)
                     if str(r.get("protocol")).lower() == "tcp" and int(r.get("publicport", 0)) == self.port), None)

    def conflict(self, ctx: CloudContext, live: dict[str, Any]) -> str | None:
        if live.get("virtualmachineid") != self.parent_id(ctx, self.vm_key):
            return f"port {self.port} is forwarded to VM {live.get('virtualmachineid')}"
        return None

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        # openfirewall=false: the firewall rule is a step of its own, recorded and removed like the others.
        return self._create_or_find(ctx, "createPortForwardingRule", "portforwardingrule",
                                    ipaddressid=self.parent_id(ctx, self.ip_key), protocol="tcp",
                                    publicport=self.port, privateport=self.port,
                                    virtualmachineid=self.parent_id(ctx, self.vm_key), openfirewall=False)


class EgressRuleStep(Step):
    kind = "egress_rule"

    def __init__(self, network_key: str, protocol: str, cidr: str):
        super().__init__(f"egress:{network_key.split(':', 1)[1]}:{protocol}:{cidr}",
                         f"{protocol.upper()} to {cidr}", (network_key,))
        self.network_key, self.protocol, self.cidr = network_key, protocol, cidr

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        network_id = self.parent_id(ctx, self.network_key)
        if network_id is None:
            return None
        return next((r for r in ctx.client.list("listEgressFirewallRules", networkid=network_id)
                     if str(r.get("protocol")).lower() == self.protocol
                     and self.cidr in str(r.get("cidrlist", "")).split(",")), None)

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        icmp = {"icmptype": -1, "icmpcode": -1} if self.protocol == "icmp" else {}
        return self._create_or_find(ctx, "createEgressFirewallRule", "firewallrule",
                                    networkid=self.parent_id(ctx, self.network_key), protocol=self.protocol,
                                    cidrlist=self.cidr, **icmp)


# -- the inception VM ---------------------------------------------------------------------------------

GONE_STATES = ("Destroyed", "Expunging", "Expunged")


class VmStep(Step):
    kind = "vm"
    reusable = False
    immutable = ("offering", "template", "keypair")

    def __init__(self, key: str, name: str, *, offering: str, template: str, keypair_key: str,
                 group_keys: tuple[str, ...], network_keys: tuple[str, ...], userdata: Any, timeout: float):
        super().__init__(key, name, (keypair_key, *group_keys, *network_keys))
        self.offering, self.template, self.keypair_key = offering, template, keypair_key
        self.group_keys, self.network_keys = group_keys, network_keys
        self.userdata = userdata          # callable -> str (cloud-config), evaluated only when creating
        self.timeout = timeout

    def spec(self) -> dict[str, Any]:
        return {"offering": self.offering, "template": self.template, "keypair": self.keypair_key.split(":", 1)[1]}

    def _offering(self, ctx: CloudContext) -> dict[str, Any]:
        return ctx.by_name("listServiceOfferings", self.offering, "compute offering", "inception.offering")

    def _template(self, ctx: CloudContext) -> dict[str, Any]:
        return ctx.by_name("listTemplates", self.template, "template in this zone", "inception.template",
                           templatefilter="executable", zoneid=ctx.zone_id)

    def check(self, ctx: CloudContext) -> None:
        self._offering(ctx)
        self._template(ctx)

    def find(self, ctx: CloudContext, adopting: bool) -> dict[str, Any] | None:
        vms = ctx.client.list("listVirtualMachines", name=self.name, zoneid=ctx.zone_id)
        return next((v for v in vms if v.get("name") == self.name and v.get("state") not in GONE_STATES), None)

    def conflict(self, ctx: CloudContext, live: dict[str, Any]) -> str | None:
        return "it is in state Error" if live.get("state") == "Error" else None

    def create(self, ctx: CloudContext) -> dict[str, Any]:
        params: dict[str, Any] = {
            "zoneid": ctx.zone_id, "serviceofferingid": self._offering(ctx)["id"],
            "templateid": self._template(ctx)["id"], "name": self.name,
            "displayname": f"{ctx.env} inception VM", "keypair": self.keypair_key.split(":", 1)[1],
            "userdata": base64.b64encode(self.userdata().encode()).decode(),
        }
        if self.group_keys:
            params["securitygroupids"] = ",".join(self.parent_id(ctx, k) or "" for k in self.group_keys)
        if self.network_keys:
            params["networkids"] = ",".join(self.parent_id(ctx, k) or "" for k in self.network_keys)
        return self._create_or_find(ctx, "deployVirtualMachine", "virtualmachine", timeout=self.timeout, **params)

    def settle(self, ctx: CloudContext, live: dict[str, Any]) -> dict[str, Any]:
        """A VM found mid-deploy (the run that started it was interrupted) is waited for until Running."""
        deadline = time.monotonic() + self.timeout
        delay = 0.1
        while live.get("state") != "Running":
            if live.get("state") in ("Stopped", "Error", *GONE_STATES) or time.monotonic() > deadline:
                raise RuntimeError(f"{self.label} is {live.get('state')} (expected Running); see `inception status`")
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)
            live = ctx.client.find_one("listVirtualMachines", id=live["id"]) or {"state": "Expunged"}
        return live

    def attrs(self, ctx: CloudContext, live: dict[str, Any]) -> dict[str, Any]:
        nics = live.get("nic") or [{}]
        return {**self.spec(), "private_ip": nics[0].get("ipaddress")}
