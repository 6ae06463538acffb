"""The README's flow, offline: `inception up` with no config and no CloudStack starts the embedded simulator,
builds everything, prepares the bootstrap bundle, runs the CPI lifecycle check, says create-env was not run;
`status` shows it; `destroy` leaves nothing of it in the simulator."""
from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
from pathlib import Path

from simulator.process import RunningSimulator
from tests.inception.conftest import INCEPTION, Env


def test_up_status_destroy_offline(tmp_path: Path) -> None:
    env = Env(None, tmp_path, {"name": "demo"})
    env.config_path.unlink()                       # start from nothing, as the README does
    up = env.run("up", timeout=300)
    assert "wrote an offline demo config" in up.stdout and "embedded CloudStack simulator" in up.stdout
    assert "create-env was NOT run" in up.stdout
    assert "passed   CPI create_vm" in up.stdout
    state_dir = tmp_path / ".inception" / "demo"
    bundle = state_dir / "bundle"
    assert list(bundle.glob("bosh-cloudstack-cpi-*.tgz")) and (bundle / "create-env.sh").is_file()
    manifest = state_dir / "secrets" / "micro-bosh.yml"
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600 and "cloudstack_cpi" in manifest.read_text()
    # create-env.sh runs on the inception VM: the CPI release by its path in the VM workspace, none of this machine
    assert "url: file://releases/bosh-cloudstack-cpi-" in manifest.read_text()
    assert str(tmp_path) not in manifest.read_text() and "file:///" not in manifest.read_text()

    status = env.run("status")
    assert "demo-inception" in status.stdout and "Running" in status.stdout and "bootstrap: not run" in status.stdout

    again = env.run("up", timeout=300)
    assert "created  VM" not in again.stdout and "passed on an earlier run" in again.stdout

    env.run("destroy", "--yes")
    sim = RunningSimulator(state_dir / "simulator").start()
    try:
        resources = sim.resources()
        assert not [v for v in resources["virtualmachine"] if v["state"] not in ("Expunging",)]
        assert not [g for g in resources["securitygroup"] if g["name"] == "demo-bosh"]
        assert not resources.get("sshkeypair") and not resources.get("tag")
    finally:
        sim.stop()


def test_ctrl_c_mid_lifecycle_stops_cleans_up_and_the_rerun_converges(tmp_path: Path) -> None:
    """A Ctrl-C at the terminal reaches the whole foreground process group: `up` stops starting steps, lets the
    running ones finish and be recorded, the CPI check deletes what it made; the CPI calls and the embedded
    simulator (their own sessions) are not cut off halfway."""
    env = Env(None, tmp_path, {"name": "demo"})
    env.config_path.unlink()
    up = subprocess.Popen([*INCEPTION, "up"], cwd=tmp_path, env=env.env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert up.stdout is not None
    seen = []
    for line in up.stdout:
        seen.append(line)
        if "passed   CPI create_vm" in line:
            os.killpg(up.pid, signal.SIGINT)   # what the terminal does on Ctrl-C
            break
    rest = up.stdout.read()
    assert up.wait(timeout=120) == 130, "".join(seen) + rest
    assert re.search(r"interrupted: finishing the [12] running step\(s\)", rest), rest
    assert "CPI stopped" in rest and "cleanup: delete_vm" in rest and "cleanup: delete_stemcell" in rest
    assert "Nothing is lost" in rest and "Traceback" not in rest

    again = env.run("up", timeout=300)
    assert "created  VM" not in again.stdout and "passed   CPI delete_stemcell" in again.stdout
    state_dir = tmp_path / ".inception" / "demo"
    env.run("destroy", "--yes")
    sim = RunningSimulator(state_dir / "simulator").start()
    try:
        resources = sim.resources()
        assert not [v for v in resources["virtualmachine"] if v["state"] not in ("Expunging",)]
        # no VM, disk, snapshot, or stemcell template (tagged with its digest) of the interrupted check left
        assert not resources.get("volume") and not resources.get("snapshot") and not resources.get("tag")
    finally:
        sim.stop()
