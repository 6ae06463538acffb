"""Access to the `bosh` CLI test double (fake_bosh_cli.py) and the calls it recorded."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("fake_bosh_cli.py")


def fake_bosh_bytes() -> bytes:
    """The test double's content, served as the "bosh binary" download."""
    return SCRIPT.read_bytes()


def recorded_calls(installed_path: str | Path) -> list[dict[str, Any]]:
    """Calls recorded by the double installed at `installed_path` (on the loopback "VM", i.e. this machine)."""
    log = Path(f"{installed_path}.log.jsonl")
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
