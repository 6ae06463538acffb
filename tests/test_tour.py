"""The README's offline tour runs end to end as a real process."""
from __future__ import annotations

import json
import subprocess
import sys


def test_tour_deploys_and_destroys_a_vm_on_the_embedded_simulator(tmp_path):
    state = tmp_path / "sim"
    out = subprocess.run([sys.executable, "-m", "inception", "tour", "--simulator-dir", str(state)],
                         capture_output=True, text=True, timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "Sim-Basic" in out.stdout and "Small Instance" in out.stdout
    assert "tour-vm" in out.stdout and "Running" in out.stdout
    assert "VM destroyed and expunged" in out.stdout
    # Nothing is left behind in the simulator's saved state, and no secret reached the output.
    saved = json.loads((state / "state.json").read_text())
    assert not [vm for vm in saved["kinds"].get("virtualmachine", {}).values() if not vm.get("_removed")]
    secret = json.loads((state / "credentials.json").read_text())["secret_key"]
    assert secret not in out.stdout + out.stderr
