"""The inception VM's SSH host key, generated here before the VM exists.

The key goes into the VM's cloud-init user-data (`ssh_keys:`), so its fingerprint is known before the
first connection and every connection can pin it: no trust-on-first-use, nothing ever auto-accepted.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


class HostKeyFormatError(ValueError):
    """A public key line is not in OpenSSH's `type base64 [comment]` form."""


@dataclass(frozen=True)
class HostKey:
    """An ed25519 host key pair. `private_openssh` is secret: kept out of repr, stored only in 0600 files."""

    public_line: str
    private_openssh: str = field(repr=False)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_line)


def generate_host_key(comment: str = "") -> HostKey:
    """A fresh ed25519 host key pair (OpenSSH private key format, as sshd reads it)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    line = public.decode() + (f" {comment}" if comment else "")
    return HostKey(public_line=line, private_openssh=private)


def split_public_line(line: str) -> tuple[str, bytes]:
    """(key type, key blob) of an OpenSSH public key line; the type inside the blob must match."""
    parts = line.strip().split()
    if len(parts) < 2:
        raise HostKeyFormatError(f"not an OpenSSH public key line (expected 'TYPE BASE64 [comment]'): {line[:60]!r}")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise HostKeyFormatError(f"public key {parts[0]}: the key data is not valid base64") from None
    inner_len = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if blob[4:4 + inner_len].decode(errors="replace") != parts[0]:
        raise HostKeyFormatError(f"public key says {parts[0]!r} but its data is of another type")
    return parts[0], blob


def fingerprint_blob(blob: bytes) -> str:
    """`SHA256:<base64, no padding>` of a key blob, exactly as `ssh-keygen -lf` and ssh print it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def fingerprint(public_line: str) -> str:
    return fingerprint_blob(split_public_line(public_line)[1])


def cloud_init_ssh_keys(host_key: HostKey) -> dict[str, object]:
    """The cloud-config keys installing `host_key` as the VM's only host key.

    `ssh_deletekeys` removes keys baked into the template and `ssh_genkeytypes: []` stops cloud-init from
    generating others, so the server can present nothing but the pinned key.
    """
    key_type = split_public_line(host_key.public_line)[0]
    short = {"ssh-ed25519": "ed25519", "ssh-rsa": "rsa", "ecdsa-sha2-nistp256": "ecdsa"}.get(key_type)
    if short is None:
        raise HostKeyFormatError(f"cloud-init cannot install a {key_type} host key")
    public = " ".join(host_key.public_line.split()[:2])
    return {
        "ssh_deletekeys": True,
        "ssh_genkeytypes": [],
        "ssh_keys": {f"{short}_private": host_key.private_openssh, f"{short}_public": public},
    }
