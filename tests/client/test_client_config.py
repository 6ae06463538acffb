"""Settings: explicit > CLOUDSTACK_* env > cloudstack.ini region; clear errors; TLS on by default."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.config import resolve_settings
from cpi.cloudstack.errors import CloudStackConfigError, CloudStackConnectionError
from tests.client.client_scripted_server import ScriptedCloudStack, ok

ENV_NAMES = [
    "CLOUDSTACK_ENDPOINT",
    "CLOUDSTACK_KEY",
    "CLOUDSTACK_SECRET",
    "CLOUDSTACK_VERIFY",
    "CLOUDSTACK_TIMEOUT",
    "CLOUDSTACK_JOB_TIMEOUT",
    "CLOUDSTACK_REGION",
    "CLOUDSTACK_CONFIG",
    "CLOUDSTACK_DANGEROUS_NO_TLS_VERIFY",
    "CLOUDSTACK_OVERRIDES",
]
INI = """\
[cloudstack]
endpoint = https://ini.example/client/api
key = ini-key
secret = ini-secret
timeout = 30

[lab]
endpoint = https://lab.example/client/api
key = lab-key
secret = lab-secret
verify = false
"""


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No CLOUDSTACK_* variables, and HOME and the working directory in an empty tmp dir."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def ini(clean_env):
    path = clean_env / "cloudstack.ini"
    path.write_text(INI)
    return path


def test_missing_configuration_is_a_clear_error_not_system_exit(clean_env):
    with pytest.raises(CloudStackConfigError) as caught:
        CloudStackClient.from_settings()
    message = str(caught.value)
    assert "no API endpoint" in message and "CLOUDSTACK_ENDPOINT" in message and "cloudstack.ini" in message


def test_a_missing_secret_names_every_place_to_set_it(clean_env, monkeypatch):
    monkeypatch.setenv("CLOUDSTACK_ENDPOINT", "http://env.example/client/api")
    monkeypatch.setenv("CLOUDSTACK_KEY", "env-key")
    with pytest.raises(CloudStackConfigError, match=r"no secret key. Give it as secret_key, set CLOUDSTACK_SECRET"):
        resolve_settings()


def test_ini_default_region_is_read_like_cs(ini):
    settings = resolve_settings()
    assert (settings.endpoint, settings.api_key, settings.secret_key, settings.timeout) == (
        "https://ini.example/client/api",
        "ini-key",
        "ini-secret",
        30.0,
    )
    assert settings.verify is True


def test_env_beats_ini_and_explicit_beats_env(ini, monkeypatch):
    monkeypatch.setenv("CLOUDSTACK_ENDPOINT", "http://env.example/client/api")
    monkeypatch.setenv("CLOUDSTACK_KEY", "env-key")
    monkeypatch.setenv("CLOUDSTACK_SECRET", "env-secret")
    assert (resolve_settings().endpoint, resolve_settings().api_key) == ("http://env.example/client/api", "env-key")
    settings = resolve_settings(api_key="arg-key", secret_key="arg-secret")
    assert (settings.endpoint, settings.api_key, settings.secret_key) == (
        "http://env.example/client/api",
        "arg-key",
        "arg-secret",
    )


def test_an_explicit_region_beats_the_environment(ini, monkeypatch):
    monkeypatch.setenv("CLOUDSTACK_ENDPOINT", "http://env.example/client/api")
    settings = resolve_settings(region="lab")
    assert (settings.endpoint, settings.api_key, settings.verify) == (
        "https://lab.example/client/api",
        "lab-key",
        False,
    )


def test_cloudstack_region_and_config_env_vars_pick_the_file_and_section(clean_env, monkeypatch):
    elsewhere = clean_env / "elsewhere.ini"
    elsewhere.write_text(INI)
    monkeypatch.setenv("CLOUDSTACK_CONFIG", str(elsewhere))
    monkeypatch.setenv("CLOUDSTACK_REGION", "lab")
    assert resolve_settings().api_key == "lab-key"


def test_an_unknown_region_is_named(ini):
    with pytest.raises(CloudStackConfigError, match=r"region 'prod' not found: add a \[prod\] section"):
        resolve_settings(region="prod")


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"CLOUDSTACK_ENDPOINT": "cloud.example"}, r"endpoint 'cloud.example' \(from environment\) is not an http"),
        ({"CLOUDSTACK_TIMEOUT": "soon"}, r"timeout 'soon' \(from environment\) must be a positive number"),
        ({"CLOUDSTACK_VERIFY": "/no/such/ca.pem"}, r"neither true/false nor an existing CA bundle"),
    ],
)
def test_bad_values_name_their_source(clean_env, monkeypatch, env, match):
    base = {"CLOUDSTACK_ENDPOINT": "http://x.example/client/api", "CLOUDSTACK_KEY": "k", "CLOUDSTACK_SECRET": "s"}
    for name, value in {**base, **env}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CloudStackConfigError, match=match):
        resolve_settings()


def test_tls_verification_is_on_by_default_and_can_take_a_ca_bundle(clean_env, tmp_path):
    assert CloudStackClient("https://x.example/client/api", "k", "s").verify is True
    bundle = tmp_path / "ca.pem"
    bundle.write_text("placeholder")
    client = CloudStackClient.from_settings("https://x.example/client/api", "k", "s", ca_bundle=str(bundle))
    assert client.verify == str(bundle)
    with pytest.raises(CloudStackConfigError, match="contradict"):
        CloudStackClient.from_settings("https://x.example/client/api", "k", "s", verify=False, ca_bundle=str(bundle))


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cloudstack test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return cert_path, context


def test_a_private_ca_is_refused_by_default_and_trusted_with_its_bundle(clean_env, tmp_path):
    cert_path, context = _self_signed(tmp_path)
    with ScriptedCloudStack(ssl_context=context) as server:
        server.script("listZones", ok("listZones", {"count": 1, "zone": [{"id": "z"}]}))
        with pytest.raises(CloudStackConnectionError, match="TLS connection .* failed.*CA bundle"):
            CloudStackClient(server.endpoint, "k", "s").call("listZones")
        assert server.calls() == []  # no request got through the failed handshake
        trusted = CloudStackClient.from_settings(server.endpoint, "k", "s", ca_bundle=str(cert_path))
        assert trusted.list("listZones") == [{"id": "z"}]
