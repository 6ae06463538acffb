"""The wizard's questions, in order. Each one is skipped when the config already answers it (unless
--reconfigure, where the current answer is the default: Enter keeps it), and the config is saved (atomically,
mode 0600) after every answer, so an interrupted wizard resumes where it stopped.

No answer ends the wizard: a wrong one is explained and asked again (checked by inception.wizard.checks, then
by the config's own validation); a new answer that makes an older one wrong (another zone, another CIDR)
removes the older one with a note, and it is asked again."""
from __future__ import annotations

import copy
import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.prompt import Confirm

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.errors import CloudStackError
from inception.cloud.choices import default_offering, default_template, is_ubuntu, offering_size
from inception.cloud.preflight import preflight
from inception.cloud.report import console
from inception.cloud.session import is_simulator
from inception.config.loader import ConfigError, Problem, save_config, validate_config
from inception.config.yamlio import YamlError, load_yaml
from inception.wizard import checks
from inception.wizard.prompts import Check, ask, choose, pick

# Defaults offered (Enter takes them; their checksums are asked): bosh.io's download paths of the releases the
# example configs name, and the bosh CLI docs/guide.md names.
DEFAULT_BOSH_RELEASE = "https://bosh.io/d/github.com/cloudfoundry/bosh?v=262.3"
BPM_FROM_BOSH = 264          # bosh >= 264 runs its jobs under bpm (docs/config.md, releases.bpm)
DEFAULT_BPM_RELEASE = "https://bosh.io/d/github.com/cloudfoundry/bpm-release?v=1.1.0"
DEFAULT_BOSH_CLI = "https://github.com/cloudfoundry/bosh-cli/releases/download/v7.9.5/bosh-cli-7.9.5-linux-amd64"


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


def _unset(data: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    node = _get(data, ".".join(parents)) if parents else data
    if isinstance(node, dict):
        node.pop(last, None)


def _within(key: str, dotted: str) -> bool:
    return key == dotted or key.startswith((f"{dotted}.", f"{dotted}["))


def _problems(data: dict[str, Any]) -> list[Problem]:
    try:
        validate_config(data, partial=True)
    except ConfigError as exc:
        return exc.problems
    return []


def human(problem: Problem) -> str:
    """A config problem as a hint: its message and fix, never the schema's raw pattern."""
    fix = "" if not problem.fix or "must match" in problem.fix else f": {problem.fix}"
    return f"{problem.message}{fix}"


class Wizard:
    def __init__(self, path: Path, flags: Flags, reconfigure: bool):
        self.path, self.flags, self.reconfigure = path, flags, reconfigure
        self.data: dict[str, Any] = self._load()
        self._client: CloudStackClient | None = None
        self._zone: dict[str, Any] | None = None
        self._remote: bool | None = None

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            data = load_yaml(self.path) or {}
        except YamlError as exc:
            raise ConfigError(str(self.path), [Problem("", exc.detail, "correct the YAML syntax")]) from None
        validate_config(data, str(self.path), partial=True)
        return data

    @property
    def base(self) -> Path:
        """Relative file paths in the config are relative to its directory."""
        return self.path.resolve().parent

    def problem(self, dotted: str, value: Any) -> str | None:
        """What the config's own validation says about `value` as the answer to `dotted`."""
        data = copy.deepcopy(self.data)
        _set(data, dotted, value)
        return next((human(p) for p in _problems(data) if _within(p.key, dotted)), None)

    def answer(self, dotted: str, value: Any) -> None:
        """Record an answer and save. Older answers it contradicts are removed (and so asked again)."""
        _set(self.data, dotted, value)
        for _ in range(8):
            stale = {p.key.split("[")[0]: p for p in _problems(self.data) if not _within(p.key, dotted) and p.key}
            if not stale:
                break
            for key, problem in stale.items():
                then = "asked again" if _question_key(key) else "set it again in the file if you need it"
                console.print(f"[yellow]{escape(key)} no longer fits ({escape(human(problem))}): removed; "
                              f"{then}[/]", highlight=False)
                _unset(self.data, key)
        validate_config(self.data, str(self.path), partial=True)   # what cannot be settled is a bug: say so
        save_config(self.path, self.data)

    def ask(self, question: str, dotted: str, default: Any = None, *, check: Check | None = None,
            convert: Callable[[str], Any] = str) -> str:
        """A free answer to `dotted`, checked in words first, then by the config's validation."""
        def full_check(value: str) -> str | None:
            return (check(value) if check else None) or self.problem(dotted, convert(value))
        return ask(question, None if default is None else str(default), check=full_check)

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
                console.print(f"[red]{escape(str(exc))}[/]")
                console.print("Enter the API settings (the secret key is stored in the config file, mode 0600; "
                              "leave it out and set CLOUDSTACK_SECRET instead if you prefer).")
                # the settings just tried are the defaults: usually only one of them is wrong
                tried_endpoint = flags.endpoint or section.get("endpoint") or os.environ.get("CLOUDSTACK_ENDPOINT")
                tried_key = flags.api_key or section.get("api_key") or os.environ.get("CLOUDSTACK_KEY")
                flags = Flags(self.ask("API endpoint", "cloudstack.endpoint",
                                       tried_endpoint or "https://cloud.example.com/client/api"),
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
    def isolated(self) -> bool:
        """An advanced zone without security groups: isolated networks, public IPs."""
        return self.zone["networktype"].lower() == "advanced" and not self.zone.get("securitygroupsenabled")

    @property
    def name(self) -> str:
        return self.data["name"]

    # -- questions ----------------------------------------------------------------------------------

    def ask_name(self) -> None:
        if self.needs("name"):
            self.answer("name", self.ask("Environment name (tags every resource)", "name",
                                         self.data.get("name") or "dev", check=checks.name_problem))

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
        """The network (saved as soon as it is known), then how it is reached: each answer saved on its own."""
        if self.needs("networks"):
            before = (self.current("networks") or [{}])[0]
            self.answer("networks", [self._isolated_network(before) if self.isolated else self._shared_network(before)])
        if self.isolated and self.needs("inception.public_access"):
            self.answer("inception.public_access", pick(
                "Reach the inception VM's SSH through its public IP by", ["static-nat", "port-forwarding"],
                self.current("inception.public_access", "static-nat")))
        if self.isolated and self.needs("inception.egress_cidrs"):
            egress = ask("Egress allowed to (comma separated CIDRs; 'none' for no egress rules)",
                         ", ".join(self.current("inception.egress_cidrs", ["0.0.0.0/0"])) or "none",
                         check=lambda v: None if v.lower() == "none" else checks.cidr_list_problem(v))
            self.answer("inception.egress_cidrs", [] if egress.lower() == "none" else checks.split_list(egress))
        if self.needs("inception.allowed_cidrs"):
            cidrs = self.ask("CIDRs allowed to reach the inception VM and the director (comma separated)",
                             "inception.allowed_cidrs",
                             ", ".join(self.current("inception.allowed_cidrs", ["0.0.0.0/0"])),
                             check=checks.cidr_list_problem, convert=checks.split_list)
            self.answer("inception.allowed_cidrs", checks.split_list(cidrs))

    def _shared_network(self, before: dict[str, Any]) -> dict[str, Any]:
        """Basic zones (and advanced ones with security groups): the zone's shared guest network, where the
        director gets a fixed address (deployVirtualMachine ipaddress=), and a security group."""
        group = self.ask("Security group to create for the BOSH VMs (ingress 22, 6868, 25555, 4222, 25250, 25777 "
                         "and all traffic within the group)", "networks",
                         (before.get("security_groups") or [f"{self.name}-bosh"])[0],
                         convert=lambda g: [{"name": "default", "security_groups": [g]}])
        shared = [n for n in self.client.list("listNetworks", zoneid=self.zone["id"])
                  if n.get("type") == "Shared" and n.get("cidr")]
        chosen: dict[str, Any] | None = shared[0] if len(shared) == 1 else None
        if chosen:
            console.print(f"The zone's guest network {escape(chosen['name'])} is {chosen['cidr']} (gateway "
                          f"{chosen.get('gateway')}); the director gets a fixed address in it.", highlight=False)
        elif shared:
            chosen = choose("Shared guest networks", shared, [("name", lambda n: n["name"]),
                                                              ("cidr", lambda n: n["cidr"])],
                            _index(shared, before.get("cloudstack_network"), 0))
        cidr = chosen["cidr"] if chosen else self.ask(
            "CIDR of the zone's guest network (the director gets a fixed address in it)", "networks",
            before.get("cidr") or "10.1.0.0/16", check=checks.cidr_problem,
            convert=lambda c: [{"name": "default", "type": "manual", "cidr": c}])
        net = ipaddress.IPv4Network(cidr, strict=False)
        gateway = (chosen or {}).get("gateway") or ask("Its gateway", before.get("gateway") or
                                                       str(net.network_address + 1),
                                                       check=lambda v: checks.address_problem(v, net))
        # an advanced zone with security groups names its guest network; a basic zone has only the one
        named = {"cloudstack_network": chosen["name"]} if chosen and self.zone["networktype"] == "Advanced" else {}
        return {"name": "default", "type": "manual", **named, "cidr": str(net), "gateway": gateway, **_ranges(net),
                "security_groups": [group]}

    def _isolated_network(self, before: dict[str, Any]) -> dict[str, Any]:
        existing = [n for n in self.client.list("listNetworks", zoneid=self.zone["id"]) if n.get("type") == "Isolated"]
        new = {"name": f"(create a new isolated network {self.name}-net)", "cidr": "", "state": ""}
        options = [new, *existing]
        chosen = choose("Isolated networks", options, [("name", lambda n: n["name"]),
                                                       ("cidr", lambda n: n.get("cidr")),
                                                       ("state", lambda n: n.get("state"))],
                        _index(options, before.get("cloudstack_network"), 0))
        if chosen is new:
            name = self.ask("Network name", "networks", before.get("cloudstack_network") or f"{self.name}-net",
                            convert=lambda n: [{"name": "default", "cloudstack_network": n}])
            cidr = ask("Its CIDR", before.get("cidr") or "10.0.0.0/24", check=checks.cidr_problem)
            gateway = None
        else:
            name, cidr, gateway = chosen["name"], chosen["cidr"], chosen.get("gateway")
        net = ipaddress.IPv4Network(cidr)
        return {"name": "default", "cloudstack_network": name, "cidr": cidr,
                "gateway": gateway or str(net.network_address + 1), **_ranges(net)}

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
                       check=checks.public_key_problem)
            self.answer("inception.public_key_file", str(Path(path).expanduser()))
        elif imported:
            self.data["inception"].pop("public_key_file")
        self.answer("inception.keypair", self.ask("Keypair name", "inception.keypair",
                                                  self.current("inception.keypair", f"{self.name}-bosh")))

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
                       check=lambda v: None if v.isdigit() and int(v) >= 1024 else
                       f"{v!r}: give a whole number of MiB, at least 1024 (40960 = 40 GiB)")
            self.answer("offerings.director.disk_size", int(size))
        net = (self.data.get("networks") or [{}])[0]
        if net.get("cidr") and self.needs("director.ip"):
            subnet = ipaddress.IPv4Network(net["cidr"])
            default = self.current("director.ip") or _first_free(subnet, net)
            self.answer("director.ip", self.ask(
                f"Director IP (a free address of {subnet})", "director.ip", default,
                check=lambda v: checks.address_problem(v, subnet, gateway=net.get("gateway"),
                                                       reserved=net.get("reserved", [])) or self._ip_in_use(v)))
        if self.isolated:
            self.ask_public_ip()

    def _ip_in_use(self, address: str) -> str | None:
        for vm in self.client.list("listVirtualMachines", zoneid=self.zone["id"]):
            if any(nic.get("ipaddress") == address for nic in vm.get("nic") or []):
                return f"{address} is taken by VM {vm.get('name')}: pick a free address"
        return None

    def ask_public_ip(self) -> None:
        """director.public_ip: one the account holds (not a network's source NAT, not NATed yet), one acquired
        now on the chosen network when it exists, or none (the director is then reached through the
        inception VM)."""
        if not (self.reconfigure or self.current("director.public_ip") is None):
            return
        taken = {ip for ip in [*(self.current("cf.router_public_ips") or []), self.current("full_bosh.public_ip")]
                 if ip}
        free = [ip for ip in self.client.list("listPublicIpAddresses", zoneid=self.zone["id"])
                if ip.get("state") == "Allocated" and not ip.get("issourcenat") and not ip.get("isstaticnat")
                and ip["ipaddress"] not in taken]
        network_name = (self.data.get("networks") or [{}])[0].get("cloudstack_network")
        network = next((n for n in self.client.list("listNetworks", zoneid=self.zone["id"])
                        if n["name"] == network_name), None)
        # CloudStack makes the first address acquired on a network its source NAT address, which cannot take
        # static NAT: acquire here only on a network that has its source NAT address already.
        source_nat = network is not None and bool(self.client.list(
            "listPublicIpAddresses", associatednetworkid=network["id"], issourcenat=True))
        acquire = {"ipaddress": f"(acquire a new one on {network_name} now)", "state": ""}
        none = {"ipaddress": "(none: reach the director through the inception VM)", "state": ""}
        options = [*free, *([acquire] if source_nat else []), none]
        if not source_nat:
            console.print(f"[dim]A public IP can be acquired for {escape(str(network_name))} once `inception up` has "
                          "built it (its first address is its source NAT): then run `inception init "
                          "--reconfigure`.[/]", highlight=False)
        current = self.current("director.public_ip")
        default = next((i for i, ip in enumerate(options) if ip["ipaddress"] == current), 0)
        chosen = choose("Public IP for the director (static NAT; ports 22, 6868, 25555 from the allowed CIDRs)",
                        options, [("address", lambda ip: ip["ipaddress"]), ("state", lambda ip: ip.get("state"))],
                        default)
        if chosen is none:
            _unset(self.data.get("director") or {}, "public_ip")
            self.answer("director", self.data.get("director") or {})
            return
        if chosen is acquire:
            address = self.client.run("associateIpAddress", networkid=network["id"],
                                      operation="acquire the director's public IP")["ipaddress"]["ipaddress"]
            console.print(f"[green]✓[/] acquired {address} (kept by `inception destroy`: release it yourself "
                          "when done)", highlight=False)
        else:
            address = chosen["ipaddress"]
        self.answer("director.public_ip", address)

    def _ask_source(self, what: str, key: str, default: str | None, suffix: str = ".tgz") -> dict[str, Any]:
        """A tarball by URL (with its checksum, which the SSH bootstrap checks) or local file."""
        source = ask(f"{what}: a URL (https://...) or a local {suffix} file", self.current(f"{key}.url") or
                     self.current(f"{key}.file") or default, check=lambda v: checks.source_problem(v, self.base))
        if not checks.is_url(source):
            return {"file": source}
        known = self.current(f"{key}.sha1") if source == self.current(f"{key}.url") else None
        return {"url": source, "sha1": ask("Its SHA-1 (as bosh.io lists it; or sha256:<hex>)", known,
                                           check=checks.checksum_problem)}

    def ask_stemcell(self) -> None:
        if self.needs("stemcell"):
            kept = {k: v for k, v in (self.current("stemcell") or {}).items() if k in ("name", "version", "os")}
            self.answer("stemcell", {**self._ask_source("Stemcell", "stemcell", None), **kept})
        if self.needs("inception.upload_mode"):
            self.answer("inception.upload_mode", pick("How the CPI turns the stemcell into a template (volume: "
                                                      "copy from the inception VM, the original way)",
                                                      ["volume", "url", "upload", "auto"],
                                                      self.current("inception.upload_mode", "volume")))

    def ask_releases(self) -> None:
        """The director's releases: bosh, and bpm when that bosh needs it (the CPI release is built here)."""
        if self.needs("releases.bosh"):
            self.answer("releases.bosh", self._release("bosh release for the director", "releases.bosh",
                                                       DEFAULT_BOSH_RELEASE))
        version = str(self.current("releases.bosh.version", ""))
        major = version.split(".")[0]
        if major.isdigit() and int(major) >= BPM_FROM_BOSH and self.needs("releases.bpm"):
            console.print(f"bosh {version} runs its jobs under bpm: the director needs the bpm release too.")
            self.answer("releases.bpm", self._release("bpm release", "releases.bpm", DEFAULT_BPM_RELEASE))

    def _release(self, what: str, key: str, default: str) -> dict[str, Any]:
        spec = self._ask_source(what, key, default)
        source = spec.get("url") or spec["file"]
        version = checks.release_version(source)
        if version is None:
            version = ask("Its version", str(self.current(f"{key}.version", "")) or None)
        return {"version": version, **spec}

    def ask_cf(self) -> None:
        if self.needs("cf.system_domain"):
            self.answer("cf.system_domain", self.ask("Cloud Foundry system domain", "cf.system_domain",
                                                     self.current("cf.system_domain", f"{self.name}.example.com"),
                                                     check=checks.domain_problem))
        if self.needs("releases.cf.version"):
            version = ask("cf-release version (160 to 180)", str(self.current("releases.cf.version", 175)),
                          check=checks.cf_version_problem)
            self.answer("releases.cf.version", int(checks.cf_version(version)))

    def ask_bosh_cli(self) -> None:
        """Where the inception VM downloads the bosh CLI (checked by its sha256): only when create-env runs
        there, i.e. not on a simulator's OS-less VMs."""
        if not self.remote or not self.needs("inception.bosh_cli"):
            return
        url = self.ask("bosh CLI for the inception VM (linux-amd64 binary URL)", "inception.bosh_cli.url",
                       self.current("inception.bosh_cli.url", DEFAULT_BOSH_CLI),
                       check=lambda v: None if v.startswith(("https://", "http://", "file://")) else
                       f"{v!r} is not a URL: give the https:// address of the bosh-cli-*-linux-amd64 release asset")
        known = self.current("inception.bosh_cli.sha256") if url == self.current("inception.bosh_cli.url") else None
        sha256 = ask("Its SHA-256 (64 hex digits, from the release's checksums)", known,
                     check=lambda v: None if checks.HEX_SHA256.fullmatch(v) else
                     f"{v!r} is not a SHA-256: 64 hex digits (0-9, a-f), as the bosh-cli release lists it")
        self.answer("inception.bosh_cli", {"url": url, "sha256": sha256})

    @property
    def remote(self) -> bool:
        """Does create-env run on the inception VM over SSH? (As `up` decides: not on a simulator, unless
        inception.ssh_address points SSH elsewhere.)"""
        if self._remote is None:
            self._remote = bool(self.current("inception.ssh_address")) or \
                not is_simulator(self.client.endpoint, self.client.verify)
        return self._remote

    QUESTIONS = ("ask_name", "ask_credentials", "ask_zone", "ask_networking", "ask_inception_vm", "ask_keypair",
                 "ask_director", "ask_stemcell", "ask_releases", "ask_bosh_cli", "ask_cf")

    def run(self) -> bool:
        """Ask what is unanswered, then the pre-flight `plan` and `up` run; True when it passes. The answers
        pre-flight finds wrong can be given again at once."""
        while True:
            for question in self.QUESTIONS:
                getattr(self, question)()
            problems = self.check()
            if not problems:
                console.print(f"[green]✓[/] {self.path} is complete and passes the pre-flight checks. Next: "
                              "`inception plan`, then `inception up`.", highlight=False)
                return True
            console.print(f"[yellow]{escape(str(self.path))} is saved, but `inception up` would refuse it:[/]",
                          highlight=False)
            for problem in problems:
                console.print(f"  [red]✗[/] {escape(str(problem))}", highlight=False)
            again = list(dict.fromkeys(k for k in map(_question_key, (p.key for p in problems)) if k))
            if not again or not Confirm.ask(f"Answer {', '.join(again)} again now?", default=True, console=console):
                console.print("Fix them (here with `inception init --reconfigure`, or in the file: docs/config.md), "
                              "then run `inception init` again to check.", highlight=False)
                return False
            self.reconfigure = False           # from here on only what is unset is asked
            for key in again:
                _unset(self.data, key)
            save_config(self.path, self.data)

    def check(self) -> list[Problem]:
        """The config's validation, then (when it is complete) the pre-flight `plan` and `up` run."""
        try:
            config = validate_config(copy.deepcopy(self.data), str(self.path))
        except ConfigError as exc:
            return exc.problems
        return preflight(config, self.client, remote=self.remote)


# The config keys the questions set, in order; a problem's key maps to the question that answers it.
QUESTION_KEYS = ("name", "cloudstack.zone", "networks", "inception.allowed_cidrs", "inception.public_access",
                 "inception.egress_cidrs", "inception.offering", "inception.template", "inception.keypair",
                 "offerings.director.compute", "offerings.director.disk_size", "director.ip", "director.public_ip",
                 "stemcell", "releases.bosh", "releases.bpm", "inception.bosh_cli", "cf.system_domain",
                 "releases.cf.version")
ASKED_WITH = {"cloudstack.zone_type": "cloudstack.zone", "offerings.vm_types": "offerings.director.compute",
              "inception.public_key_file": "inception.keypair", "inception.upload_mode": "stemcell"}


def _question_key(key: str) -> str | None:
    for alias, asked in ASKED_WITH.items():
        if _within(key, alias):
            return asked
    return next((k for k in QUESTION_KEYS if _within(key, k)), None)


def _ranges(net: ipaddress.IPv4Network) -> dict[str, list[str]]:
    """BOSH's address plan in a network: .2-.9 reserved, static IPs from .10 (smaller networks: all static)."""
    base, last = net.network_address, net.broadcast_address - 1
    if net.num_addresses < 32:
        return {"static": [f"{base + 2}-{last}"]}
    return {"reserved": [f"{base + 2}-{base + 9}"], "static": [f"{base + 10}-{min(last, base + 100)}"]}


def _first_free(subnet: ipaddress.IPv4Network, net: dict[str, Any]) -> str:
    """The default director address: the first static one that is not the gateway."""
    for candidate in subnet.hosts():
        if not checks.address_problem(str(candidate), subnet, gateway=net.get("gateway"),
                                      reserved=net.get("reserved", [])):
            return str(candidate)
    return str(subnet.network_address + 1)


def _index(items: list[dict[str, Any]], name: str | None, fallback: int) -> int:
    """Where the item called `name` is in a menu (the current answer), else `fallback`."""
    return next((i for i, item in enumerate(items) if name is not None and item.get("name") == name), fallback)


def _offering_columns() -> list[tuple[str, Callable[[dict], Any]]]:
    return [("name", lambda o: o["name"]), ("CPUs", lambda o: o.get("cpunumber")),
            ("memory (MB)", lambda o: o.get("memory"))]


def run_wizard(path: Path, *, reconfigure: bool, flags: Flags | None = None) -> bool:
    return Wizard(path, flags or Flags(), reconfigure).run()
