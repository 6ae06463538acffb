"""SSH key material as CloudStack's SSHKeysHelper reads it, and the public key of a named key pair.

A key without a space is base64 of the key text; the type must be one CloudStack knows; the stored key is
"<type> <blob>"; the fingerprint is the MD5 of the decoded blob in colon-separated lower-case hex.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re

from .registry import Ctx

KEY_TYPES = ("ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "ssh-ed25519")
KEY_BITS = 2048   # ManagementServerImpl.sshKeyLength default
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")


def _lenient_b64decode(text: str) -> bytes:
    """commons-codec Base64.decodeBase64: characters outside the alphabet are skipped, padding is optional."""
    cleaned = _NOT_BASE64.sub("", text)
    cleaned = cleaned[:len(cleaned) - len(cleaned) % 4] if len(cleaned) % 4 == 1 else cleaned
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return b""


def public_key_from_material(material: str) -> str | None:
    """SSHKeysHelper.getPublicKeyFromKeyMaterial: "<type> <blob>", or None when the key is invalid.

    Faithfully lenient: CloudStack checks only the type prefix and that a blob follows, so `ssh-rsa not-a-key`
    is accepted (and fingerprinted from whatever base64 it decodes to), as a real server accepts it.
    """
    if " " not in material:
        material = _lenient_b64decode(material).decode("utf-8", "replace")
    if not material.startswith(KEY_TYPES) or " " not in material:
        return None
    key_type, blob = material.split(" ")[:2]
    return f"{key_type} {blob}"


def fingerprint_of(public_key: str) -> str:
    """SSHKeysHelper.getPublicKeyFingerprint: MD5 over the decoded key blob, as aa:bb:..."""
    digest = hashlib.md5(_lenient_b64decode(public_key.split(" ")[1])).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def public_key_of(ctx: Ctx, name: str) -> str | None:
    """The OpenSSH public key of a named key pair (for deployVirtualMachine's keypair and the metadata service)."""
    pair = ctx.mine("sshkeypair", name=name)
    return pair["_publickey"] if pair else None
