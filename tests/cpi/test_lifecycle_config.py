"""The lifecycle check's cpi.json holds the API secret key: mode 0600 whether or not the file was there."""
from __future__ import annotations

import json
import stat
from pathlib import Path

from cpi.lifecycle import write_cpi_config


def test_cpi_config_is_private_even_over_a_looser_file(tmp_path: Path) -> None:
    path = tmp_path / "cpi.json"
    path.write_text("{}")
    path.chmod(0o644)
    write_cpi_config(path, {"endpoint": "http://127.0.0.1:1/client/api", "api_key": "k", "secret_access_key": "s"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    properties = json.loads(path.read_text())["cloud"]["properties"]
    assert properties["cloudstack"]["secret_access_key"] == "s" and properties["agent"]["mbus"].startswith("https://")
