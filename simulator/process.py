"""A simulator in a child process: what tests, benches, `inception tour` and the embedded default run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests


@dataclass
class RunningSimulator:
    """A `cloudstack-sim serve` child process and how to talk to it."""
    state_dir: Path
    options: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    endpoint: str = ""
    api_key: str = ""
    secret_key: str = ""
    account_keys: dict[str, dict[str, str]] = field(default_factory=dict)   # seeded user accounts' keys

    @property
    def base_url(self) -> str:
        return self.endpoint.rsplit("/client/api", 1)[0]

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self, timeout: float = 20.0) -> "RunningSimulator":
        args = [sys.executable, "-m", "simulator", "serve", "--host", "127.0.0.1", "--port",
                str(self.options.get("port", 0)), "--state-dir", str(self.state_dir)]
        for name in ("latency", "time_scale", "fault_rate", "seed", "host_vm_device_dir", "seed_file"):
            if self.options.get(name) is not None:
                args += [f"--{name.replace('_', '-')}", str(self.options[name])]
        if self.options.get("verbose"):   # request log on stderr (read it after stop())
            args.append("--verbose")
        if self.options.get("api_key"):
            args += ["--api-key", self.options["api_key"], "--secret-key", self.options["secret_key"]]
        # its own session: a Ctrl-C meant for the program using it (inception up) does not take the cloud away
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if not line:
                err = self.process.stderr.read() if self.process.stderr else ""
                raise RuntimeError(f"simulator did not start: {err.strip()}")
            if line.startswith("http"):
                self.endpoint = line.strip()
                break
        creds = json.loads((self.state_dir / "credentials.json").read_text())
        self.api_key, self.secret_key = creds["api_key"], creds["secret_key"]
        self.account_keys = creds.get("accounts") or {}
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr) if self.process else ():
            if stream:
                stream.close()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no chance to settle jobs or save — what a crash does."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> "RunningSimulator":
        """Stop and start again on the same state dir and port (keys come from the state dir)."""
        port = int(self.endpoint.rsplit(":", 1)[1].split("/")[0])
        self.stop()
        self.options["port"] = port
        return self.start()

    def resources(self) -> dict[str, list[dict[str, Any]]]:
        return requests.get(self.url("/_sim/resources"), timeout=10).json()

    def calls(self, since: int = 0) -> list[dict[str, Any]]:
        return requests.get(self.url("/_sim/calls"), params={"since": since}, timeout=10).json()

    def keys(self, account: str | None = None) -> tuple[str, str]:
        """(api key, secret key) of the root admin, or of a seeded user account."""
        if account is None:
            return self.api_key, self.secret_key
        pair = self.account_keys[account]
        return pair["api_key"], pair["secret_key"]

    def env(self, account: str | None = None) -> dict[str, str]:
        key, secret = self.keys(account)
        return {"CLOUDSTACK_ENDPOINT": self.endpoint, "CLOUDSTACK_KEY": key, "CLOUDSTACK_SECRET": secret}

    def cs(self, account: str | None = None, **kwargs: Any):
        """A plain `cs.CloudStack` client for this simulator (POST), as the root admin or a seeded account."""
        from cs import CloudStack
        key, secret = self.keys(account)
        return CloudStack(endpoint=self.endpoint, key=key, secret=secret, method="post", poll_interval=0.05,
                          **kwargs)
