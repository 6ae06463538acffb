"""Commands run where there is nothing yet: a clear message with the way forward and a failing exit status, never a
traceback."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.inception.conftest import INCEPTION

COMMANDS = [["status"], ["plan"], ["destroy", "--yes"], ["deploy-cf"], ["ssh", "--", "true"], ["print-env"],
            ["cleanup-leftovers", "--dry-run"]]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: args[0])
def test_without_a_config_each_command_says_how_to_get_one(tmp_path: Path, args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSTACK_", "INCEPTION_"))}
    result = subprocess.run([*INCEPTION, *args], cwd=tmp_path, env={**env, "COLUMNS": "300"}, capture_output=True,
                            text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode in (1, 2), output   # 2: a config problem, 1: anything else
    assert "inception.yml: file not found" in output and "run `inception init` to write it" in output
    assert "Traceback" not in output
    assert os.listdir(tmp_path) == []   # nothing written where nothing was asked for
