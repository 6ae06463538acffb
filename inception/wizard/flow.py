"""The wizard's questions, in order. Each one is skipped when the config already answers it (unless
--reconfigure, where the current answer is the default: Enter keeps it), and the config is saved (atomically,
mode 0600) after every answer, so an interrupted wizard resumes where it stopped."""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.errors import CloudStackError
from inception.cloud.choices import default_offering, default_template, is_ubuntu, offering_size
from inception.cloud.report import console
from inception.config.loader import ConfigError, Problem, save_config, validate_config
from inception.config.yamlio import YamlError, load_yaml
from inception.wizard.prompts import ask, choose, pick

CF_VERSIONS = [str(v) for v in range(160, 181)]


@dataclass
class Flags:
    endpoint: str | None = None
    api_key: str | None = None
    secret_key: str | None = None
    region: str | None = None


def _get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


class Wizard:
    def __init__(self, path: Path, flags: Flags, reconfigure: bool):
        self.path, self.flags, self.reconfigure = path, flags, reconfigure
        self.data: dict[str, Any] = self._load()
        self._client: CloudStackClient | None = None
        self._zone: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            data = load_yaml(self.path) or {}
        except YamlError as exc:
            raise ConfigError(str(self.path), [Problem("", exc.detail, "correct the YAML syntax")]) from None
        validate_config(data, str(self.path), partial=True)
        return data

    def save(self) -> None:
        validate_config(self.data, str(self.path), partial=True)
        save_config(self.path, self.data)

    def answer(self, dotted: str, value: Any) -> None:
        _set(self.data, dotted, value)
        self.save()

    def needs(self, *keys: str) -> bool:
        return self.reconfigure or any(_get(self.data, k) is None for k in keys)

    def current(self, dotted: str, fallback: Any = None) -> Any:
        """The config's answer to a question (the default when --reconfigure asks it again), else `fallback`."""
        value = _get(self.data, dotted)
        return fallback if value is None else value

    # -- the API ------------------------------------------------------------------------------------

    @property
    def client(self) -> CloudStackClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> CloudStackClient:
        section = self.data.get("cloudstack") or {}
        flags = self.flags
        while True:
            try:
                client = CloudStackClient.from_settings(
                    flags.endpoint or section.get("endpoint"), flags.api_key or section.get("api_key"),
                    flags.secret_key or section.get("secret_key"), flags.region or section.get("region"))
                client.list("listZones")
                console.print(f"[green]✓[/] CloudStack API at {client.endpoint} answers with these credentials")
                return client
            except CloudStackError as exc:
                console.print(f"[red]{exc}[/]")
                console.print("Enter the API settings (the secret key is stored in the config file, mode 0600; "
                              "leave it out and set CLOUDSTACK_SECRET instead if you prefer).")
                # the settings just tried are the defaults: usually only one of them is wrong
                tried_endpoint = flags.endpoint or section.get("endpoint") or os.environ.get("CLOUDSTACK_ENDPOINT")
                tried_key = flags.api_key or section.get("api_key") or os.environ.get("CLOUDSTACK_KEY")
                flags = Flags(ask("API endpoint", tried_endpoint or "https://cloud.example.com/client/api"),
                              ask("API key", tried_key), ask("Secret key", secret=True))
                for key, value in (("endpoint", flags.endpoint), ("api_key", flags.api_key),
                                   ("secret_key", flags.secret_key)):
                    self.answer(f"cloudstack.{key}", value)

    @property
    def zone(self) -> dict[str, Any]:
        if self._zone is None:
            name = _get(self.data, "cloudstack.zone")
            self._zone = next(z for z in self.client.list("listZones") if z["name"] == name)
        return self._zone

    @property
    def name(self) -> str:
        return self.data["name"]

    # -- questions ----------------------------------------------------------------------------------

    def ask_name(self) -> None:
        if self.needs("name"):
            def valid(value: str) -> str | None:
                import re
                return None if re.fullmatch(r"[a-z][a-z0-9-]{0,30}[a-z0-9]", value) else \
                    "lower-case letters, digits and dashes, 2-32 characters"
            self.answer("name", ask("Environment name (tags every resource)", self.data.get("name") or "dev",
                                    check=valid))

    def ask_credentials(self) -> None:
        for key, value in (("endpoint", self.flags.endpoint), ("api_key", self.flags.api_key),
                           ("secret_key", self.flags.secret_key), ("region", self.flags.region)):
            if value:
                self.answer(f"cloudstack.{key}", value)
        self.client  # noqa: B018 - connects (and asks) now, before any question that needs the API

    def ask_zone(self) -> None:
        if not self.needs("cloudstack.zone"):
            return
        zones = self.client.list("listZones")
        zone = choose("Zones", zones, [("name", lambda z: z["name"]), ("network type", lambda z: z["networktype"]),
                                       ("security groups", lambda z: z.get("securitygroupsenabled"))],
                      _index(zones, self.current("cloudstack.zone"), 0))
        self._zone = zone
        self.data.setdefault("cloudstack", {})["zone"] = zone["name"]
        self.answer("cloudstack.zone_type", zone["networktype"].lower())

    def ask_networking(self) -> None:
        if not self.needs("networks"):
            return
        before = (self.current("networks") or [{}])[0]
        if self.zone["networktype"].lower() == "basic" or self.zone.get("securitygroupsenabled"):
            group = ask("Security group to create for the BOSH VMs (ingress 22, 6868, 25555, 4222, 25250, 25777 "
                        "and all traffic within the group)", (before.get("security_groups") or [f"{self.name}-bosh"])[0])
            network: dict[str, Any] = {"name": "default", "security_groups": [group]}
        else:
            network = self._isolated_network(before)
        cidrs = ask("CIDRs allowed to reach the inception VM and the director (comma separated)",
                    ", ".join(self.current("inception.allowed_cidrs", ["0.0.0.0/0"])))
        self.answer("inception.allowed_cidrs", [c.strip() for c in cidrs.split(",") if c.strip()])
        self.answer("networks", [network])

    def _isolated_network(self, before: dict[str, Any]) -> dict[str, Any]:
        existing = [n for n in self.client.list("listNetworks", zoneid=self.zone["id"]) if n.get("type") == "Isolated"]
        new = {"name": f"(create a new isolated network {self.name}-net)", "cidr": "", "state": ""}
        options = [new, *existing]
        chosen = choose("Isolated networks", options, [("name", lambda n: n["name"]),
                                                       ("cidr", lambda n: n.get("cidr")),
                                                       ("state", lambda n: n.get("state"))],
                        _index(options, before.get("cloudstack_network"), 0))
        if chosen is new:
            name = ask("Network name", before.get("cloudstack_network") or f"{self.name}-net")
            cidr = ask("Its CIDR", before.get("cidr") or "10.0.0.0/24", check=_cidr_problem)
        else:
            name, cidr = chosen["name"], chosen["cidr"]
        net = ipaddress.IPv4Network(cidr)
        gateway = str(net.network_address + 1)
        access = pick("Reach the inception VM's SSH through its public IP by", ["static-nat", "port-forwarding"],
                      self.current("inception.public_access", "static-nat"))
        self.answer("inception.public_access", access)
        egress = ask("Egress allowed to (comma separated CIDRs; 'none' for no egress rules)",
                     ", ".join(self.current("inception.egress_cidrs", ["0.0.0.0/0"])) or "none")
        self.answer("inception.egress_cidrs", [] if egress == "none" else [c.strip() for c in egress.split(",")])
        first, last = net.network_address + 10, net.network_address + min(net.num_addresses - 2, 100)
        return {"name": "default", "cloudstack_network": name, "cidr": cidr, "gateway": gateway,
                "reserved": [f"{net.network_address + 2}-{net.network_address + 9}"], "static": [f"{first}-{last}"]}

    def ask_inception_vm(self) -> None:
        if self.needs("inception.offering"):
            offerings = [o for o in self.client.list("listServiceOfferings") if not o.get("iscustomized")]
            best = offerings.index(default_offering(offerings))
            chosen = choose("Compute offerings for the inception VM", offerings, _offering_columns(),
                            _index(offerings, self.current("inception.offering"), best))
            self.answer("inception.offering", chosen["name"])
        if self.needs("inception.template"):
            templates = [t for t in self.client.list("listTemplates", templatefilter="executable",
                                                     zoneid=self.zone["id"]) if is_ubuntu(t)]
            if not templates:
                self.answer("inception.template", ask("No Ubuntu template in this zone; template name to use"))
                return
            best = templates.index(default_template(templates) or templates[0])
            chosen = choose("Ubuntu templates for the inception VM", templates,
                            [("name", lambda t: t["name"]), ("OS", lambda t: t.get("ostypename")),
                             ("ready", lambda t: t.get("isready"))],
                            _index(templates, self.current("inception.template"), best))
            self.answer("inception.template", chosen["name"])

    def ask_keypair(self) -> None:
        if not self.needs("inception.keypair"):
            return
        imported = self.current("inception.public_key_file")
        how = pick("SSH keypair: create one here, or import your public key", ["create", "import"],
                   "import" if imported else "create")
        if how == "import":
            path = ask("Public key file", imported or str(Path("~/.ssh/id_ed25519.pub").expanduser()),
                       check=lambda p: None if Path(p).expanduser().is_file() else f"{p} does not exist")
            self.answer("inception.public_key_file", str(Path(path).expanduser()))
        elif imported:
            self.data["inception"].pop("public_key_file")
        self.answer("inception.keypair", ask("Keypair name", self.current("inception.keypair", f"{self.name}-bosh")))

    def ask_director(self) -> None:
        offerings = [o for o in self.client.list("listServiceOfferings") if not o.get("iscustomized")]
        if self.needs("offerings.director.compute"):
            big = [o for o in offerings if offering_size(o)[1] >= 4096] or offerings
            chosen = choose("Compute offerings for the director", offerings, _offering_columns(),
                            _index(offerings, self.current("offerings.director.compute"),
                                   offerings.index(min(big, key=offering_size))))
            self.answer("offerings.director.compute", chosen["name"])
            ordered = sorted(offerings, key=offering_size)
            small, large = ordered[0]["name"], ordered[-1]["name"]
            medium = ordered[len(ordered) // 2]["name"]
            self.answer("offerings.vm_types", {"small": {"compute": small}, "medium": {"compute": medium},
                                               "large": {"compute": large}, "runner": {"compute": large},
                                               "router": {"compute": small}})
        if self.needs("offerings.director.disk_size"):
            size = ask("Director persistent disk size in MiB", str(self.current("offerings.director.disk_size", 40960)),
                       check=lambda v: None if v.isdigit() and int(v) >= 1024 else "a number of MiB, at least 1024")
            self.answer("offerings.director.disk_size", int(size))
        net = (self.data.get("networks") or [{}])[0]
        if net.get("cidr") and self.needs("director.ip"):
            subnet = ipaddress.IPv4Network(net["cidr"])
            self.answer("director.ip", ask("Director IP", self.current("director.ip", str(subnet.network_address + 10)),
                                           check=lambda v: _ip_problem(v, subnet)))

    def ask_stemcell(self) -> None:
        if self.needs("stemcell"):
            source = ask("Stemcell: a URL (https://...) or a local .tgz file",
                         self.current("stemcell.url") or self.current("stemcell.file"))
            if source.startswith(("http://", "https://", "file://")):
                sha1 = self.current("stemcell.sha1") if source == self.current("stemcell.url") else None
                self.answer("stemcell", {"url": source, "sha1": ask("Its SHA-1 (or sha256:<hex>)", sha1)})
            else:
                self.answer("stemcell", {"file": source})
        if self.needs("inception.upload_mode"):
            self.answer("inception.upload_mode", pick("How the CPI turns the stemcell into a template (volume: "
                                                      "copy from the inception VM, the original way)",
                                                      ["volume", "url", "upload", "auto"],
                                                      self.current("inception.upload_mode", "volume")))

    def ask_cf(self) -> None:
        if self.needs("cf.system_domain"):
            self.answer("cf.system_domain", ask("Cloud Foundry system domain",
                                                self.current("cf.system_domain", f"{self.name}.example.com")))
        if self.needs("releases.cf.version"):
            self.answer("releases.cf.version", int(pick("cf-release version", CF_VERSIONS,
                                                        str(self.current("releases.cf.version", 175)))))

    def run(self) -> None:
        for question in (self.ask_name, self.ask_credentials, self.ask_zone, self.ask_networking,
                         self.ask_inception_vm, self.ask_keypair, self.ask_director, self.ask_stemcell, self.ask_cf):
            question()
        console.print(f"[green]✓[/] {self.path} is complete. Next: `inception plan`, then `inception up`.")


def _index(items: list[dict[str, Any]], name: str | None, fallback: int) -> int:
    """Where the item called `name` is in a menu (the current answer), else `fallback`."""
    return next((i for i, item in enumerate(items) if name is not None and item.get("name") == name), fallback)


def _offering_columns() -> list[tuple[str, Callable[[dict], Any]]]:
    return [("name", lambda o: o["name"]), ("CPUs", lambda o: o.get("cpunumber")),
            ("memory (MB)", lambda o: o.get("memory"))]


def _cidr_problem(value: str) -> str | None:
    try:
        ipaddress.IPv4Network(value)
    except ValueError as exc:
        return f"not a network address: {exc}"
    return None


def _ip_problem(value: str, subnet: ipaddress.IPv4Network) -> str | None:
    try:
        return None if ipaddress.IPv4Address(value) in subnet else f"{value} is outside {subnet}"
    except ValueError:
        return f"{value} is not an IPv4 address"


def run_wizard(path: Path, *, reconfigure: bool, flags: Flags | None = None) -> None:
    Wizard(path, flags or Flags(), reconfigure).run()
