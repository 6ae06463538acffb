"""SSH key pairs: create (a real RSA key, private half returned once), register, list, delete.

Key material is read as CloudStack's SSHKeysHelper reads it (simulator/sshkeys.py).
"""
from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import param_error
from ..registry import Ctx, command, public
from ..shapes import ListShape, list_command, same
from ..sshkeys import KEY_BITS, fingerprint_of, public_key_from_material
from ..store import new_id


def _check_name_free(ctx: Ctx, name: str, suffix: str) -> None:
    if ctx.mine("sshkeypair", name=name):
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
    if ctx.mine("sshkeypair", _publickey=public_key):
        raise param_error(f"A key pair with key '{p['publickey']}' already exists for this account.")
    return {"keypair": public(_save(ctx, name, public_key))}


list_command("listSSHKeyPairs", ListShape(kind="sshkeypair", equal=same("fingerprint"),
                                          keyword=("name", "fingerprint")))


@command("deleteSSHKeyPair")
def delete_ssh_key_pair(ctx: Ctx, p: dict) -> dict:
    pair = ctx.mine("sshkeypair", name=p["name"])
    if pair is None:
        raise param_error(f"A key pair with name '{p['name']}' does not exist for account "
                          f"{ctx.owner()['account']} in specified domain id")
    ctx.store.remove("sshkeypair", pair["id"])
    return {"success": "true"}
