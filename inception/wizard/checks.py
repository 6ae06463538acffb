"""The wizard's answer checks: each returns None for a good answer, else the reason in words an operator
understands (never a pattern), so the question can be asked again. They accept what the config schema
(inception/config/schema.json) accepts, and catch earlier what `up` would refuse later."""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from inception.config.sshkey import key_kind

NAME_FORM = re.compile(r"[a-z][a-z0-9-]{0,30}[a-z0-9]")
DOMAIN_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)
HEX_SHA1 = re.compile(r"[0-9a-f]{40}")
HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
CF_VERSIONS = range(160, 181)   # schema.json releases.cf.version


def name_problem(value: str) -> str | None:
    if NAME_FORM.fullmatch(value):
        return None
    return (f"{value!r} cannot name an environment: use 2-32 lower-case letters, digits and dashes, starting with "
            "a letter and not ending with a dash (e.g. dev, cf-prod)")


def cidr_problem(value: str) -> str | None:
    """One IPv4 network in address/prefix form."""
    if "/" not in value:
        return f"{value!r} is not a CIDR: write a network and its prefix length, e.g. 10.0.0.0/24"
    try:
        ipaddress.IPv4Network(value)
    except ValueError:
        try:
            net = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            return (f"{value!r} is not a CIDR: write four numbers 0-255 and a prefix length 0-32, "
                    "e.g. 10.0.0.0/24 or 203.0.113.7/32")
        return f"{value} has host bits set: did you mean {net}?"
    return None


def cidr_list_problem(value: str) -> str | None:
    for item in split_list(value):
        problem = cidr_problem(item)
        if problem:
            return problem
    return None if split_list(value) else "give at least one CIDR, e.g. 0.0.0.0/0 for anywhere"


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def address_problem(value: str, subnet: ipaddress.IPv4Network, *, gateway: str | None = None,
                    reserved: list[str] = ()) -> str | None:
    """A host address of `subnet` that is not its gateway nor reserved (the director's, the full BOSH's)."""
    from inception.config.loader import in_ranges

    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        return f"{value!r} is not an IPv4 address: write four numbers 0-255, e.g. {subnet.network_address + 10}"
    if address not in subnet:
        return f"{value} is outside the network {subnet}: pick an address inside it"
    if address in (subnet.network_address, subnet.broadcast_address):
        return f"{value} is the {'network' if address == subnet.network_address else 'broadcast'} address of " \
               f"{subnet}: pick a host address"
    if gateway and address == ipaddress.IPv4Address(gateway):
        return f"{value} is the network's gateway: the director needs an address of its own"
    if in_ranges(address, reserved):
        return f"{value} is in the reserved range {', '.join(reserved)}: pick an address outside it"
    return None


def domain_problem(value: str) -> str | None:
    labels = value.split(".")
    if len(labels) >= 2 and all(DOMAIN_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit():
        return None
    return (f"{value!r} is not a DNS domain: write dot-separated names of letters, digits and dashes, "
            "e.g. cf.example.com (Cloud Foundry serves api.<domain>, uaa.<domain>, ...)")


def checksum_problem(value: str) -> str | None:
    if HEX_SHA1.fullmatch(value) or (value.startswith("sha256:") and HEX_SHA256.fullmatch(value[7:])):
        return None
    if value != value.lower() and not checksum_problem(value.lower()):
        return "write the checksum in lower case"
    if HEX_SHA256.fullmatch(value.lower()):
        return "that is a SHA-256: write it as sha256:<its 64 hex digits>"
    return (f"{value!r} is not a checksum: a SHA-1 is 40 hex digits (0-9, a-f), as bosh.io lists it "
            "(or sha256:<64 hex digits>)")


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "file://"))


def source_problem(value: str, base: Path, suffix: str = ".tgz") -> str | None:
    """A URL, or a tarball file (relative paths are relative to the config file's directory)."""
    if "://" in value and not is_url(value):
        return f"{value!r}: only http://, https:// and file:// URLs can be fetched"
    if is_url(value):
        return None
    path = resolve(value, base)
    if not path.is_file():
        return f"{path} does not exist (or is not a file): give a URL (https://...) or the path of a {suffix} file"
    return None


def resolve(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def public_key_problem(value: str) -> str | None:
    """An OpenSSH public key file, as CloudStack's registerSSHKeyPair takes it."""
    path = Path(value).expanduser()
    if not path.is_file():
        return f"{path} does not exist (or is not a file): give your public key, e.g. ~/.ssh/id_ed25519.pub"
    kind = key_kind(path.read_bytes())
    if kind == "private":
        return f"{path} is a private key: give its public half ({path.name}.pub)"
    if kind == "other":
        return (f"{path} is not an OpenSSH public key (one line like 'ssh-ed25519 AAAA... you@host'); "
                "give the .pub file")
    return None


def cf_version(value: str) -> str:
    """`175`, `v175`, `V175` -> `175` (the forms docs/config.md accepts)."""
    return value.strip().lower().removeprefix("v")


def cf_version_problem(value: str) -> str | None:
    text = cf_version(value)
    if text.isdigit() and int(text) in CF_VERSIONS:
        return None
    first, last = CF_VERSIONS.start, CF_VERSIONS.stop - 1
    return f"{value!r}: this project renders cf-release {first} to {last} (e.g. 175 or v175)"


def release_version(source: str) -> str | None:
    """The version a release URL or file names: bosh.io's `?v=262.3`, or `bosh-262.3.tgz`."""
    found = re.search(r"[?&]v=([0-9][0-9A-Za-z.+-]*)", source) or \
        re.search(r"-v?([0-9][0-9A-Za-z.+]*?)\.(?:tgz|tar\.gz)$", source)
    return found.group(1) if found else None
