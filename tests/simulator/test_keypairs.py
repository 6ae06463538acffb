"""SSH key pairs: real private keys, CloudStack's fingerprints, register/list/delete rules."""
from __future__ import annotations

import base64
import hashlib
import io
import subprocess
from pathlib import Path

import libcloud
import paramiko

from .compute import Cloud, api_error, cloud, unique  # noqa: F401  (fixture)

# libcloud ships a real CloudStack answer for registering this key: registerSSHKeyPair_default.json.
LIBCLOUD_FIXTURES = Path(libcloud.__file__).parent / "test/compute/fixtures/cloudstack"
LIBCLOUD_FINGERPRINT = "c4:a1:e5:d4:50:84:a9:4c:6b:22:ee:d6:57:02:b8:15"


def md5_fingerprint_by_ssh_keygen(public_key: str, tmp_path: Path) -> str:
    path = tmp_path / "key.pub"
    path.write_text(public_key + "\n")
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[1].removeprefix("MD5:")


def test_create_returns_a_real_private_key_once(cloud: Cloud, tmp_path):
    name = unique("key")
    pair = cloud.api.createSSHKeyPair(name=name)["keypair"]
    assert pair["name"] == name and pair["privatekey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    key = paramiko.RSAKey.from_private_key(io.StringIO(pair["privatekey"]))
    assert key.get_bits() == 2048
    public_key = f"ssh-rsa {key.get_base64()}"
    assert pair["fingerprint"] == md5_fingerprint_by_ssh_keygen(public_key, tmp_path)
    listed = cloud.api.listSSHKeyPairs(name=name)["sshkeypair"]
    assert len(listed) == 1 and "privatekey" not in listed[0] and listed[0]["fingerprint"] == pair["fingerprint"]
    stored = [k for k in cloud.sim.resources()["sshkeypair"] if k["name"] == name]
    assert "BEGIN" not in str(stored)          # the simulator never keeps the private half
    err = api_error(lambda: cloud.api.createSSHKeyPair(name=name))
    assert (err["errorcode"], err["errortext"]) == (431, f"A key pair with name '{name}' already exists.")


def test_register_computes_cloudstacks_fingerprint(cloud: Cloud):
    public_key = (LIBCLOUD_FIXTURES / "dummy_rsa.pub").read_text().strip()
    name = unique("reg")
    pair = cloud.api.registerSSHKeyPair(name=name, publickey=public_key)["keypair"]
    assert (pair["name"], pair["fingerprint"]) == (name, LIBCLOUD_FINGERPRINT)
    again = api_error(lambda: cloud.api.registerSSHKeyPair(name=unique("reg"), publickey=public_key))
    assert again["errorcode"] == 431 and again["errortext"].endswith("already exists for this account.")
    assert cloud.api.deleteSSHKeyPair(name=name) == {"success": "true"}
    # Key material without a space is taken as base64 of the key text.
    encoded = base64.b64encode(public_key.encode()).decode()
    pair = cloud.api.registerSSHKeyPair(name=name, publickey=encoded)["keypair"]
    assert pair["fingerprint"] == LIBCLOUD_FINGERPRINT
    taken = api_error(lambda: cloud.api.registerSSHKeyPair(name=name, publickey=public_key))
    assert taken["errortext"] == f"A key pair with name '{name}' already exists for this account."


def test_register_refuses_invalid_keys(cloud: Cloud):
    for bad in ("not a key", "ssh-foo AAAAB3Nza", "ssh-rsa", base64.b64encode(b"garbage").decode()):
        err = api_error(lambda: cloud.api.registerSSHKeyPair(name=unique("bad"), publickey=bad))
        assert (err["errorcode"], err["errortext"]) == (431, "Public key is invalid")


def test_register_checks_only_the_type_prefix_as_cloudstack_does(cloud: Cloud):
    # SSHKeysHelper accepts any blob after a known type; the fingerprint is MD5 of what the blob decodes to.
    pair = cloud.api.registerSSHKeyPair(name=unique("lenient"), publickey="ssh-rsa not-a-key")["keypair"]
    decoded = base64.b64decode("notakey=")  # commons-codec skips the '-' characters
    expected = hashlib.md5(decoded).hexdigest()
    assert pair["fingerprint"] == ":".join(expected[i:i + 2] for i in range(0, 32, 2))


def test_list_filters_and_delete(cloud: Cloud):
    first = cloud.api.createSSHKeyPair(name=unique("lst"))["keypair"]
    second = cloud.api.createSSHKeyPair(name=unique("lst"))["keypair"]
    by_print = cloud.api.listSSHKeyPairs(fingerprint=second["fingerprint"])["sshkeypair"]
    assert [k["name"] for k in by_print] == [second["name"]]
    names = {k["name"] for k in cloud.api.listSSHKeyPairs()["sshkeypair"]}
    assert {first["name"], second["name"]} <= names
    assert cloud.api.listSSHKeyPairs(name=unique("none")) == {}
    assert cloud.api.deleteSSHKeyPair(name=first["name"]) == {"success": "true"}
    err = api_error(lambda: cloud.api.deleteSSHKeyPair(name=first["name"]))
    assert (err["errorcode"], err["errortext"]) == (
        431, f"A key pair with name '{first['name']}' does not exist for account admin in specified domain id")
