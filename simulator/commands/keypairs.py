"""SSH key pairs: create (a real RSA key, private half returned once), register, list, delete.

Key material handling and fingerprints follow CloudStack's SSHKeysHelper: a key without a space is base64 of the
key text; the type must be one CloudStack knows; the stored key is "<type> <blob>"; the fingerprint is the MD5 of
the decoded blob in colon-separated lower-case hex.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import param_error
from ..registry import Ctx, command, public
from ..store import new_id

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


def _check_name_free(ctx: Ctx, name: str, suffix: str) -> None:
    if ctx.store.first("sshkeypair", name=name):
        raise param_error(f"A key pair with name '{name}' already exists{suffix}.")


def _save(ctx: Ctx, name: str, public_key: str) -> dict[str, Any]:
    return ctx.store.add("sshkeypair", {"id": new_id(), "name": name, "fingerprint": fingerprint_of(public_key),
                                        **ctx.owner(), "hasannotations": False, "_publickey": public_key})


@command("createSSHKeyPair")
def create_ssh_key_pair(ctx: Ctx, p: dict) -> dict:
    name = p["name"]
    if not name.strip():
        raise param_error("Please specify a valid name for the key pair. The key name can't be empty")
    _check_name_free(ctx, name, "")
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    public_key = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()
    pair = _save(ctx, name, public_key)
    # The private key exists only in this answer; the simulator never stores it.
    return {"keypair": {**public(pair), "privatekey": private_pem}}


@command("registerSSHKeyPair")
def register_ssh_key_pair(ctx: Ctx, p: dict) -> dict:
    name = p["name"]
    _check_name_free(ctx, name, " for this account")
    public_key = public_key_from_material(p["publickey"])
    if public_key is None:
        raise param_error("Public key is invalid")
    if ctx.store.first("sshkeypair", _publickey=public_key):
        raise param_error(f"A key pair with key '{p['publickey']}' already exists for this account.")
    return {"keypair": public(_save(ctx, name, public_key))}


@command("listSSHKeyPairs")
def list_ssh_key_pairs(ctx: Ctx, p: dict) -> dict:
    pairs = ctx.store.all("sshkeypair")
    for field in ("id", "name", "fingerprint"):
        if field in p:
            pairs = [k for k in pairs if k[field] == p[field]]
    if "keyword" in p:
        word = p["keyword"].lower()
        pairs = [k for k in pairs if word in k["name"].lower() or word in k["fingerprint"]]
    return ctx.listing("sshkeypair", pairs, p)


@command("deleteSSHKeyPair")
def delete_ssh_key_pair(ctx: Ctx, p: dict) -> dict:
    pair = ctx.store.first("sshkeypair", name=p["name"])
    if pair is None:
        raise param_error(f"A key pair with name '{p['name']}' does not exist for account "
                          f"{ctx.owner()['account']} in specified domain id")
    ctx.store.remove("sshkeypair", pair["id"])
    return {"success": "true"}


def public_key_of(ctx: Ctx, name: str) -> str | None:
    """The OpenSSH public key of a named key pair (for deployVirtualMachine's keypair and the metadata service)."""
    pair = ctx.store.first("sshkeypair", name=name)
    return pair["_publickey"] if pair else None
