"""Running the real `cloudstack-cpi` executable in a subprocess, as the director and bosh create-env do."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

CPI = [sys.executable, "-m", "cpi.main"]


def write_config(path: Path, sim: Any, **cloudstack: Any) -> Path:
    """A cpi.json for a simulator (mode 0600: it holds the secret key)."""
    doc = {"cloud": {"plugin": "cloudstack", "properties": {
        "cloudstack": {"endpoint": sim.endpoint, "api_key": sim.api_key, "secret_access_key": sim.secret_key,
                       "state_timeout": 60, "state_timeout_volume": 60, **cloudstack},
        "agent": {"mbus": "https://mbus:secret@0.0.0.0:6868", "ntp": ["0.pool.ntp.org"],
                  "blobstore": {"provider": "local", "options": {"blobstore_path": "/var/vcap/micro_bosh/data/cache"}}},
    }}}
    path.write_text(json.dumps(doc))
    path.chmod(0o600)
    return path


def run_raw(stdin: str | bytes, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(CPI + list(args), input=data, capture_output=True, timeout=300,
                          env={**os.environ, **(env or {})})


def call(config: Path | None, method: str, *arguments: Any, api_version: int | None = 2,
         context: dict[str, Any] | None = None) -> dict[str, Any]:
    """One CPI call; returns the parsed response after checking the process contract (exit 0, one JSON doc)."""
    request: dict[str, Any] = {"method": method, "arguments": list(arguments),
                               "context": context or {"director_uuid": "test-director"}}
    if api_version is not None:
        request["api_version"] = api_version
    proc = run_raw(json.dumps(request), *(["--config", str(config)] if config else []))
    assert proc.returncode == 0, proc.stderr.decode()
    response = json.loads(proc.stdout)
    assert set(response) == {"result", "error", "log"}
    return response


def ok(config: Path, method: str, *arguments: Any, **kwargs: Any) -> Any:
    response = call(config, method, *arguments, **kwargs)
    assert response["error"] is None, f"{method} failed: {response['error']}\n{response['log']}"
    return response["result"]


def error(config: Path, method: str, *arguments: Any, **kwargs: Any) -> dict[str, Any]:
    response = call(config, method, *arguments, **kwargs)
    assert response["result"] is None
    assert response["error"] is not None, f"{method} unexpectedly succeeded: {response['result']}"
    return response["error"]
