"""((variable)) interpolation, secret generation and the vars store (stability, staleness, file modes)."""
from __future__ import annotations

import os
import re
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtendedKeyUsageOID

from inception.manifests.interpolate import VariablesError, find_variables, interpolate
from inception.manifests.secrets import PASSWORD_ALPHABET, SecretGenerator, certificate_names
from inception.manifests.varstore import VarsStore
from inception.config.yamlio import load_yaml


def test_interpolation_semantics():
    values = {"port": 4222, "pw": "s3", "cert": {"ca": "CA", "certificate": "C"}, "list": [1, 2]}
    doc = {"a": "((port))", "b": "nats://u:((pw))@h:((port))", "c": "((cert.certificate))", "d": "((!pw))",
           "e": ["((list))"], "((pw))": "key", "f": 5}
    assert interpolate(doc, values) == {"a": 4222, "b": "nats://u:s3@h:4222", "c": "C", "d": "s3", "e": [[1, 2]],
                                        "s3": "key", "f": 5}
    assert find_variables(doc) == ["cert", "list", "port", "pw"]


def test_interpolation_errors():
    with pytest.raises(VariablesError) as err:
        interpolate({"a": "((x))", "b": "((y.z))", "c": "x((x))"}, {})
    assert err.value.missing == ["x", "y"] and str(err.value) == "missing variables: x, y"
    assert interpolate({"a": "((x))"}, {}, allow_missing=True) == {"a": "((x))"}
    with pytest.raises(VariablesError, match="only strings and integers"):
        interpolate({"a": "x-((l))"}, {"l": [1]})
    with pytest.raises(VariablesError, match="has no key 'private'"):
        interpolate({"a": "((c.private))"}, {"c": {"certificate": "C"}})


def test_passwords_are_random_and_long():
    gen = SecretGenerator()
    values = {gen.password() for _ in range(50)}
    assert len(values) == 50
    assert all(len(v) == 32 and set(v) <= set(PASSWORD_ALPHABET) for v in values)


def test_certificates_chain_sans_and_usage(fixture_keys):
    gen = SecretGenerator(key_factory=iter(fixture_keys).__next__)
    ca = gen.certificate({"common_name": "ca", "is_ca": True}, None)
    leaf = gen.certificate({"common_name": "10.0.0.6", "alternative_names": ["10.0.0.6", "director.example"],
                            "extended_key_usage": ["server_auth"]}, ca)
    assert leaf["ca"] == ca["certificate"]
    assert certificate_names(leaf["certificate"]) == ("10.0.0.6", {"10.0.0.6", "director.example"}, "ca")
    ca_cert = x509.load_pem_x509_certificate(ca["certificate"].encode())
    cert = x509.load_pem_x509_certificate(leaf["certificate"].encode())
    ca_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH])
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


DEFS = [
    {"name": "admin_password", "type": "password"},
    {"name": "jwt", "type": "rsa"},
    {"name": "ssh", "type": "ssh"},
    {"name": "server_tls", "type": "certificate",
     "options": {"ca": "default_ca", "common_name": "((ip))", "alternative_names": ["((ip))"]}},
    {"name": "default_ca", "type": "certificate", "options": {"common_name": "ca", "is_ca": True}},
]


def test_store_is_private_and_stable_across_renders(tmp_path, seeded_generator):
    path = tmp_path / "state" / "vars.yml"
    store = VarsStore(path, seeded_generator(1))
    store.ensure(DEFS, {"ip": "10.0.0.6"})
    store.save()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    first = load_yaml(path)
    assert set(first) == {"admin_password", "jwt", "ssh", "server_tls", "default_ca"}
    assert first["ssh"]["public_key"].startswith("ssh-rsa ")
    again = VarsStore(path, seeded_generator(2))  # a different seed: nothing may change
    again.ensure(DEFS, {"ip": "10.0.0.6"})
    again.save()
    assert again.changed == [] and load_yaml(path) == first
    assert first["admin_password"] not in repr(again)


def test_stale_certificate_regenerated_other_secrets_kept(tmp_path, seeded_generator):
    path = tmp_path / "vars.yml"
    store = VarsStore(path, seeded_generator(1))
    store.ensure(DEFS, {"ip": "10.0.0.6"})
    store.save()
    before = load_yaml(path)
    moved = VarsStore(path, seeded_generator(3))
    moved.ensure(DEFS, {"ip": "10.0.0.7"})
    assert moved.changed == ["server_tls"]
    assert certificate_names(moved.values["server_tls"]["certificate"])[1] == {"10.0.0.7"}
    assert moved.values["admin_password"] == before["admin_password"]
    assert moved.values["default_ca"] == before["default_ca"]


def test_store_errors(tmp_path):
    bad = tmp_path / "vars.yml"
    bad.write_text("- a\n")
    with pytest.raises(VariablesError, match="expected a YAML mapping"):
        VarsStore(bad)
    store = VarsStore(None)
    with pytest.raises(VariablesError, match="needs name and type"):
        store.ensure([{"name": "x", "type": "uuid-ish"}], {})
    with pytest.raises(VariablesError, match="its ca 'nope' is neither defined nor stored"):
        store.ensure([{"name": "x", "type": "certificate", "options": {"ca": "nope"}}], {})


@pytest.mark.parametrize("definitions, words", [
    ([{"name": "c", "type": "certificate", "options": {"common_name": "a", "extended_key_usage": ["anything"]}}],
     "variable 'c': options.extended_key_usage ['anything'] is not supported"),
    ([{"name": "p", "type": "password", "options": {"length": "long"}}],
     "variable 'p': options.length must be a positive integer"),
    ([{"name": "c", "type": "certificate", "options": {"common_name": "a", "duration": 0}}],
     "variable 'c': options.duration must be a positive integer"),
    ([{"name": "c", "type": "certificate", "options": ["common_name"]}], "variable 'c': options must be a hash"),
    (5, "variables: expected a list"),
])
def test_unusable_variable_definitions_are_named(definitions, words):
    """An ops file can add any `variables:` entry: bad options are an error naming the variable, not a crash."""
    with pytest.raises(VariablesError, match=re.escape(words)):
        VarsStore(None).ensure(definitions, {})


def test_bosh_extended_key_usages(fixture_keys):
    store = VarsStore(None, SecretGenerator(key_factory=lambda: fixture_keys[0]))
    store.ensure([{"name": "c", "type": "certificate",
                   "options": {"common_name": "a", "extended_key_usage": ["code_signing", "timestamping"]}}], {})
    cert = x509.load_pem_x509_certificate(store.values["c"]["certificate"].encode())
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.TIME_STAMPING]
