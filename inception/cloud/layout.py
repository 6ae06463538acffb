"""Which steps an environment needs, from its config and zone type."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from inception.cloud.context import CloudContext
from inception.cloud.steps import (
    EgressRuleStep,
    ConfiguredIpStep,
    FirewallRuleStep,
    IngressRuleStep,
    KeypairStep,
    NetworkStep,
    PortForwardingStep,
    PublicIpStep,
    SecurityGroupStep,
    StaticNatStep,
    Step,
    VmStep,
)
from inception.cloud.userdata import cloud_config, host_key
from inception.config.loader import ConfigError, Problem

# Operator -> director and VMs: SSH, the agent during create-env, the director API, NATS, blobstore, registry.
DIRECTOR_PORTS = (22, 6868, 25555, 4222, 25250, 25777)
DIRECTOR_PUBLIC_PORTS = (22, 6868, 25555)
VM_KEY = "vm:inception"
IP_KEY = "ip:inception"


def vm_name(env: str) -> str:
    return f"{env}-inception"


def _unique(items: Any) -> list[Any]:
    return list(dict.fromkeys(items))


def inception_settings(ctx: CloudContext) -> dict[str, Any]:
    """The `inception` section with the offering and template defaults filled from the API when absent."""
    from inception.cloud.choices import default_offering, default_template

    section = dict(ctx.config.get("inception") or {})
    if not section.get("offering"):
        section["offering"] = default_offering(ctx.client.list("listServiceOfferings"))["name"]
    if not section.get("template"):
        templates = ctx.client.list("listTemplates", templatefilter="executable", zoneid=ctx.zone_id)
        chosen = default_template(templates)
        if chosen is None:
            raise ConfigError(ctx.config.source, [Problem("inception.template", "no Ubuntu template in zone "
                                                          f"{ctx.zone['name']}", "set inception.template", True)])
        section["template"] = chosen["name"]
    return section


def build_steps(ctx: CloudContext) -> list[Step]:
    config = ctx.config
    zone_type = config.require_zone_type()
    settings = inception_settings(ctx)
    base_dir = Path(config.source).resolve().parent
    cidrs = settings.get("allowed_cidrs", ["0.0.0.0/0"])
    timeout = float(config.cloudstack.get("state_timeout", 600))
    steps: list[Step] = []
    # Rules come after the VM in the list: the runner starts ready steps in list order, and the VM's deploy (the
    # longest step) must not queue behind them for a worker; a sequential run deploys it before the public IP.
    rules: list[Step] = []

    keypair = settings.get("keypair") or config.key_name
    keypair_key = f"keypair:{keypair}"
    steps.append(KeypairStep(keypair_key, keypair, settings.get("public_key_file"), base_dir))
    if config.key_name != keypair:
        steps.append(KeypairStep(f"keypair:{config.key_name}", config.key_name, None, base_dir))

    group_keys: list[str] = []
    if config.security_groups_enabled:
        groups = _unique(g for net in config.networks for g in net.get("security_groups", []))
        if not groups:
            raise ConfigError(config.source, [Problem("networks[0].security_groups", "no security group named",
                                                      f"set networks[0].security_groups: [{config.name}-bosh]", True)])
        for group in groups:
            key = f"sg:{group}"
            group_keys.append(key)
            steps.append(SecurityGroupStep(key, group))
        for key in group_keys:
            for port in DIRECTOR_PORTS:
                rules += [IngressRuleStep(key, "tcp", (port, port), cidr=cidr) for cidr in cidrs]
            for peer in group_keys:
                rules += [IngressRuleStep(key, proto, (1, 65535), peer_key=peer, peer=peer.split(":", 1)[1])
                          for proto in ("tcp", "udp")]

    network_keys: list[str] = []
    if zone_type == "advanced":
        director_net = config.director_network
        for net in sorted(config.networks, key=lambda n: n is not director_net):
            name = net.get("cloudstack_network")
            if not name or f"network:{name}" in network_keys:
                continue
            network_keys.append(f"network:{name}")
            steps.append(NetworkStep(f"network:{name}", name, net.get("cidr"), net.get("gateway"),
                                     settings.get("network_offering",
                                                  "DefaultIsolatedNetworkOfferingWithSourceNatService")))
        if not config.security_groups_enabled:
            for key in network_keys:
                rules += [EgressRuleStep(key, proto, cidr) for cidr in settings.get("egress_cidrs", ["0.0.0.0/0"])
                          for proto in ("tcp", "udp", "icmp")]
            rules.append(PublicIpStep(IP_KEY, network_keys[0], "inception VM", timeout=timeout))
            if settings.get("public_access", "static-nat") == "static-nat":
                rules.append(StaticNatStep("static-nat:inception", IP_KEY, VM_KEY))
            else:
                rules.append(PortForwardingStep(IP_KEY, VM_KEY, 22))
            rules += [FirewallRuleStep(IP_KEY, "tcp", (22, 22), cidr) for cidr in cidrs]
            public_ip = config.director.get("public_ip")
            if public_ip:
                director_key = f"network:{config.director_network['cloudstack_network']}"
                rules.append(ConfiguredIpStep("ip:director", public_ip, "director.public_ip", director_key,
                                              timeout=timeout))
                rules += [FirewallRuleStep("ip:director", "tcp", (port, port), cidr)
                          for port in DIRECTOR_PUBLIC_PORTS for cidr in cidrs]

    steps.append(VmStep(VM_KEY, vm_name(config.name), offering=settings["offering"], template=settings["template"],
                        keypair_key=keypair_key, group_keys=tuple(group_keys), network_keys=tuple(network_keys[:1]),
                        userdata=lambda: cloud_config(host_key(ctx.state)),
                        timeout=timeout))
    return steps + rules
