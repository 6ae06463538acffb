"""`inception` start-up stays light: registering every command imports none of the heavy modules (crypto, SSH,
HTTP stack, schema validation, the simulator); each command imports what it needs when it runs."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("cryptography", "paramiko", "requests", "cs", "jsonschema", "yaml", "simulator", "inception.manifests.render")


def test_registering_every_command_imports_no_heavy_module() -> None:
    code = ("import json, sys; import inception.cli; "
            f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(proc.stdout) == []


def test_help_lists_the_renderer_kinds() -> None:
    from inception.commands.manifests import KIND_NAMES
    from inception.manifests.render import KINDS

    assert KIND_NAMES == KINDS
