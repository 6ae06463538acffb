"""Helpers for the inception tool's tests: config files, running `inception` as a real subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

INCEPTION = [str(Path(sys.executable).parent / "inception")]
ENV_TAG = "inception-environment"


def basic_config(name: str) -> dict[str, Any]:
    return {"name": name, "cloudstack": {"zone": "Sim-Basic"},
            "networks": [{"name": "default", "security_groups": [f"{name}-bosh"]}],
            "inception": {"offering": "Small Instance", "template": "Ubuntu 22.04 LTS"}}


def advanced_config(name: str, **inception: Any) -> dict[str, Any]:
    return {"name": name, "cloudstack": {"zone": "Sim-Advanced"},
            "networks": [{"name": "default", "cloudstack_network": f"{name}-net", "cidr": "10.7.0.0/24",
                          "gateway": "10.7.0.1", "static": ["10.7.0.10-10.7.0.40"]}],
            "director": {"ip": "10.7.0.10"},
            "inception": {"offering": "Small Instance", "template": "Ubuntu 22.04 LTS", **inception}}


def bootstrappable(config: dict[str, Any]) -> dict[str, Any]:
    """A config that also renders the Micro BOSH manifest (stemcell, bosh release, director offering; a manual
    network with the director's IP in a basic zone)."""
    from inception.cloud.apply import DEMO_CONFIG

    out = {**config, "stemcell": DEMO_CONFIG["stemcell"], "releases": DEMO_CONFIG["releases"],
           "offerings": DEMO_CONFIG["offerings"]}
    if config["cloudstack"]["zone"] == "Sim-Basic":
        out["networks"] = [{**DEMO_CONFIG["networks"][0], "security_groups": [f"{config['name']}-bosh"]}]
        out["director"] = {"ip": DEMO_CONFIG["director"]["ip"]}
    return out


class Env:
    """One environment: its config file, state dir and simulator; `run` calls the real CLI."""

    def __init__(self, sim: Any, directory: Path, config: dict[str, Any]):
        self.sim, self.dir, self.config = sim, directory, config
        self.config_path = directory / "inception.yml"
        self.state_dir = directory / ".inception" / config["name"]
        self.write(config)

    def write(self, config: dict[str, Any]) -> None:
        self.config = config
        self.config_path.write_text(yaml.safe_dump(config))

    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSTACK_", "INCEPTION_"))}
        return {**clean, **(self.sim.env() if self.sim else {}), "COLUMNS": "200", "NO_COLOR": "1"}

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([*INCEPTION, *args], cwd=self.dir, env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run([*INCEPTION, *args], cwd=self.dir, env=self.env(), capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"inception {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result

    def tagged(self) -> dict[str, list[str]]:
        """Resource ids tagged for this environment in the simulator, by resource type."""
        out: dict[str, list[str]] = {}
        for tag in self.sim.resources().get("tag", []):
            if tag["key"] == ENV_TAG and tag["value"] == self.config["name"]:
                out.setdefault(tag["resourcetype"], []).append(tag["resourceid"])
        return out

    def leftovers(self) -> dict[str, list[dict[str, Any]]]:
        """Everything of this environment in /_sim/resources: tagged, or named after it."""
        name = self.config["name"]
        resources = self.sim.resources()
        tagged = {t["resourceid"] for t in resources.get("tag", []) if t["value"] == name}
        found: dict[str, list[dict[str, Any]]] = {}
        for kind, items in resources.items():
            for item in items:
                mine = item.get("id") in tagged or str(item.get("name", "")).startswith(f"{name}-")
                if mine and item.get("state") not in ("Expunging", "Destroyed"):
                    found.setdefault(kind, []).append(item)
        return found


@pytest.fixture
def make_env(tmp_path: Path) -> Callable[..., Env]:
    def make(sim: Any, config: dict[str, Any], subdir: str = "env") -> Env:
        directory = tmp_path / subdir
        directory.mkdir()
        return Env(sim, directory, config)
    return make
