"""Fixtures for the config and manifest tests: example configs copied to a temp dir, edited per test."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "manifests" / "examples"


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """write_config('advanced'|'basic', edit=fn, **top_level_overrides) -> path of a real YAML file."""

    def _write(kind: str = "advanced", edit: Callable[[dict[str, Any]], None] | None = None, **overrides: Any) -> Path:
        data = yaml.safe_load((EXAMPLES / f"config-{kind}.yml").read_text())
        data.update(overrides)
        if edit:
            edit(data)
        path = tmp_path / f"inception-{kind}.yml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return _write


def stemcell_file(data: dict[str, Any]) -> None:
    """Edit for the advanced example: the stemcell tarball as a file already downloaded next to the config (the
    way an operator with their own builder output sets it), instead of the published URL and its sha1."""
    data["stemcell"] = {"file": data["stemcell"]["url"].rsplit("/", 1)[1],
                        "name": data["stemcell"]["name"], "version": data["stemcell"]["version"]}


KEYS_FILE = Path(__file__).parent / "data" / "golden-keys.pem"
FIXED_NOW = __import__("datetime").datetime(2024, 1, 1, tzinfo=__import__("datetime").timezone.utc)
UUID = "12345678-90ab-cdef-1234-567890abcdef"


def _fixture_keys() -> list:
    from cryptography.hazmat.primitives import serialization

    text = KEYS_FILE.read_text()
    blocks = text.split("-----BEGIN PRIVATE KEY-----")[1:]
    return [serialization.load_pem_private_key(("-----BEGIN PRIVATE KEY-----" + b).encode(), password=None) for b in blocks]


@pytest.fixture(scope="session")
def fixture_keys() -> list:
    return _fixture_keys()


@pytest.fixture
def seeded_generator(fixture_keys):
    """A SecretGenerator that is fully reproducible: seeded passwords/serials, fixed keys, fixed clock."""
    import itertools
    import random

    from inception.manifests.secrets import SecretGenerator

    def make(seed: int = 42) -> SecretGenerator:
        keys = itertools.cycle(fixture_keys)
        return SecretGenerator(rng=random.Random(seed), key_factory=lambda: next(keys), now=lambda: FIXED_NOW)

    return make


@pytest.fixture
def credentials_env(monkeypatch):
    """CloudStack credentials from the environment, the way users usually provide them."""
    monkeypatch.setenv("CLOUDSTACK_ENDPOINT", "https://cloud.example.com/client/api")
    monkeypatch.setenv("CLOUDSTACK_KEY", "test-api-key")
    monkeypatch.setenv("CLOUDSTACK_SECRET", "test-secret-key")


def cf_manual_network(data: dict[str, Any]) -> None:
    """Edit for the basic example: cf gets a manual network on the zone's shared guest network (static IPs are
    the only addresses the bosh 262.3 director's jobs can reach), the director keeps its dynamic one. It
    replaces the example's own `cf` network, so the golden file keeps its addresses."""
    data["networks"] = [n for n in data["networks"] if n.get("name") != "cf"]
    data["networks"].append({"name": "cf", "type": "manual", "cidr": "10.1.0.0/24", "gateway": "10.1.0.1",
                             "dns": ["8.8.8.8"], "reserved": ["10.1.0.2-10.1.0.9"], "static": ["10.1.0.10-10.1.0.40"],
                             "security_groups": ["bosh"]})
    data["cf"]["network"] = "cf"
    data["stemcell"] = {"file": "bosh-stemcell-2427-cloudstack-xen-ubuntu-lucid-go_agent.tgz", "os": "ubuntu-lucid"}


GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def micro() -> dict[str, Any]:
    """The golden Micro BOSH manifest (advanced zone), as rendered and reviewed."""
    return yaml.safe_load((GOLDEN / "micro-advanced.yml").read_text())


@pytest.fixture(scope="module")
def cf() -> dict[str, Any]:
    """The golden cf-release v175 manifest (advanced zone)."""
    return yaml.safe_load((GOLDEN / "cf-advanced-v175.yml").read_text())
