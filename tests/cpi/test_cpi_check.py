"""`inception cpi-check`: the lifecycle through real CPI processes, with the embedded simulator or a config."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.cpi.fixtures import own

INCEPTION = [sys.executable, "-c", "from inception.cli import main; main()"]
STEPS = ["info", "create_stemcell", "create_vm", "has_vm", "set_vm_metadata", "create_disk", "attach_disk",
         "get_disks", "snapshot_disk", "delete_snapshot", "detach_disk", "resize_disk", "delete_disk", "delete_vm",
         "delete_stemcell"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(INCEPTION + ["cpi-check", *args], capture_output=True, text=True, timeout=240,
                          env={**os.environ, "COLUMNS": "200"})


def test_cpi_check_against_the_embedded_simulator() -> None:
    proc = run("--zone", "Sim-Advanced")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for step in STEPS:
        assert f"✓ {step} " in proc.stdout, step
    assert "all" in proc.stdout and "steps passed" in proc.stdout


def test_cpi_check_with_a_config_cleans_up_after_a_failed_step(sim, tmp_path: Path) -> None:
    config = tmp_path / "inception.yml"
    config.write_text(yaml.safe_dump({
        "name": "check",
        "cloudstack": {"endpoint": sim.endpoint, "api_key": sim.api_key, "secret_key": sim.secret_key,
                       "zone": "Sim-Basic"},
        "networks": [{"name": "default", "type": "dynamic"}],
        "offerings": {"director": {"compute": "No Such Offering"}},
    }))
    config.chmod(0o600)
    templates_before = {t["id"] for t in own(sim.resources(), "template")}
    proc = run("--config", str(config))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "✗ create_vm" in proc.stdout and "No Such Offering" in proc.stdout
    assert "✓ cleanup: delete_stemcell" in proc.stdout
    assert {t["id"] for t in own(sim.resources(), "template")} == templates_before
    assert sim.secret_key not in proc.stdout + proc.stderr
