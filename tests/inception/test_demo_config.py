"""The offline demo config (inception/cloud/apply.py DEMO_CONFIG) is consistent with the support matrix
(docs/manifests.md): every step the demo offers runs on the embedded simulator, and the stemcell it names is a
real, published artifact of the line bosh 262.3 and cf v175 run on."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from inception.cloud.apply import DEMO_CONFIG
from inception.manifests.cf import CF_STEMCELL_LINES
from inception.manifests.validate import validate
from tests.inception.conftest import Env


def test_demo_stemcell_is_a_published_trusty_artifact_named_as_the_builder_names_it() -> None:
    """bosh-linux-stemcell-builder names its tarball `bosh-stemcell-<version>-<infrastructure>-<hypervisor>-
    <os>-<os version>-go_agent.tgz` (bosh-stemcell/lib/bosh/stemcell/archive_filename.rb, definition.rb) and the
    stemcell `bosh-` + the same name (stemcell_packager.rb); an http URL carries its sha1 (bosh create-env refuses
    one without)."""
    stemcell = DEMO_CONFIG["stemcell"]
    name, version = stemcell["name"], stemcell["version"]
    assert stemcell["url"].startswith("https://")
    assert stemcell["url"].rsplit("/", 1)[1] == f"bosh-stemcell-{version}-{name.removeprefix('bosh-')}.tgz"
    assert re.fullmatch(r"[0-9a-f]{40}", stemcell.get("sha1", ""))
    assert re.fullmatch(r"bosh-cloudstack-[a-z]+-ubuntu-trusty-go_agent", name)
    assert "ubuntu-trusty" in CF_STEMCELL_LINES


def test_every_deployment_the_demo_offers_renders_on_the_simulator(tmp_path: Path) -> None:
    """`deploy-cf` and `deploy-bosh` on the demo render their manifests and say in one line why nothing was
    deployed (the demo's jammy stemcell made deploy-cf refuse cf v175)."""
    env = Env(None, tmp_path, DEMO_CONFIG)
    for command, title in (("deploy-cf", "Cloud Foundry"), ("deploy-bosh", "full BOSH")):
        result = env.run(command, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{title} was NOT deployed: the simulated inception VM has no operating system" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr
    secrets = env.state_dir / "secrets"
    cf = yaml.safe_load((secrets / "cf.yml").read_text())
    assert {p["stemcell"]["name"] for p in cf["resource_pools"]} == {DEMO_CONFIG["stemcell"]["name"]}
    # the trusty stemcell gets the Ubuntu 12.04 patch, and the rendered manifests pass the checks with no error
    assert cf["properties"]["nfs_server"]["pipefs_directory"] == "/run/rpc_pipefs"
    for name in ("cf.yml", "bosh.yml"):
        doc = yaml.safe_load((secrets / name).read_text())
        found = [str(v) for v in validate(doc, zone_type="basic", stemcell_os="ubuntu-trusty") if not v.warning]
        assert found == [], (name, found)
