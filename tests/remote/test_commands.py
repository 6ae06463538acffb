"""`inception ssh` and `inception print-env` as real processes against the loopback sshd."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from typer.testing import CliRunner

from inception.cli import app
from inception.config.yamlio import dump_yaml
from inception.manifests.secrets import SecretGenerator
from inception.remote.connection import load_connection, record_director, record_inception_vm
from inception.remote.hostkeys import generate_host_key
from inception.state import StateDir
from testkit.sshd import RunningSshd

INCEPTION = str(Path(sys.executable).with_name("inception"))


def make_state(root: Path, sshd: RunningSshd, *, host_key: str | None = None, director: bool = True) -> Path:
    state = StateDir(root).load("cli-env")
    key = state.dir.write_secret("inception-ssh-key", sshd.client_key_path.read_text())
    state.set_output(inception_host_key=host_key or sshd.host_key.public_line)
    record_inception_vm(state, address="127.0.0.1", port=sshd.port, user=sshd.user, private_key=key)
    if director:
        generator = SecretGenerator()
        ca = generator.certificate({"common_name": "ca", "is_ca": True}, None)
        ssl = generator.certificate({"common_name": "10.0.0.6", "alternative_names": ["10.0.0.6"]}, ca)
        store = state.dir.write_secret("creds.yml", dump_yaml(
            {"admin_password": "adm'in $ecret", "default_ca": ca, "director_ssl": ssl}))
        record_director(state, address="10.0.0.6", vars_store=store)
    return root


@pytest.fixture(scope="module")
def state_dir(sshd: RunningSshd, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_state(tmp_path_factory.mktemp("cli") / "state", sshd)


def test_recorded_paths_are_relative(state_dir: Path) -> None:
    outputs = StateDir(state_dir).load("cli-env").outputs
    assert outputs["inception_private_key"] == "secrets/inception-ssh-key"
    assert outputs["director_vars_store"] == "secrets/creds.yml"
    assert load_connection(state_dir).target.key_path == state_dir / "secrets" / "inception-ssh-key"


def test_ssh_runs_one_command(state_dir: Path) -> None:
    done = subprocess.run([INCEPTION, "ssh", "--state-dir", str(state_dir), "--", "echo", "hi"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "hi\n"), done.stderr
    failed = CliRunner().invoke(app, ["ssh", "--state-dir", str(state_dir), "--", "echo oops >&2; echo out; exit 3"])
    assert (failed.exit_code, failed.stdout, failed.stderr) == (3, "out\n", "oops\n")


def test_ssh_refuses_another_host_key(sshd: RunningSshd, tmp_path: Path) -> None:
    other = generate_host_key()
    state_dir = make_state(tmp_path / "state", sshd, host_key=other.public_line, director=False)
    result = CliRunner().invoke(app, ["ssh", "--state-dir", str(state_dir), "--", "touch", str(tmp_path / "ran")])
    assert result.exit_code == 1
    assert "host key mismatch" in result.output and other.fingerprint in result.output
    assert not (tmp_path / "ran").exists()


def test_interactive_shell_uses_the_pinned_key(state_dir: Path) -> None:
    child = pexpect.spawn(INCEPTION, ["ssh", "--state-dir", str(state_dir)], timeout=20, encoding="utf-8")
    child.sendline("echo pinned-$((40+2))")
    child.expect("pinned-42")
    child.sendline("exit 0")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_interactive_shell_refuses_another_host_key(sshd: RunningSshd, tmp_path: Path) -> None:
    state_dir = make_state(tmp_path / "state", sshd, host_key=generate_host_key().public_line, director=False)
    child = pexpect.spawn(INCEPTION, ["ssh", "--state-dir", str(state_dir)], timeout=20, encoding="utf-8")
    child.expect("Host key verification failed")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 255


def test_print_env_evals_in_bash(state_dir: Path) -> None:
    script = (f'eval "$({INCEPTION} print-env --state-dir {state_dir})" && '
              'printf "%s\\0" "$BOSH_ENVIRONMENT" "$BOSH_CLIENT" "$BOSH_CLIENT_SECRET" "$BOSH_CA_CERT" "$BOSH_ALL_PROXY"')
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    values = done.stdout.split("\0")[:-1]
    info = load_connection(state_dir)
    creds = StateDir(state_dir).read_secret("creds.yml")
    import yaml
    expected_ca = yaml.safe_load(creds)["director_ssl"]["ca"]
    assert values == [
        "https://10.0.0.6:25555", "admin", "adm'in $ecret", expected_ca,
        f"ssh+socks5://{info.target.user}@127.0.0.1:{info.target.port}?private-key={state_dir}/secrets/inception-ssh-key",
    ]
    assert expected_ca.startswith("-----BEGIN CERTIFICATE-----")


def test_print_env_without_a_director(sshd: RunningSshd, tmp_path: Path) -> None:
    state_dir = make_state(tmp_path / "state", sshd, director=False)
    result = CliRunner().invoke(app, ["print-env", "--state-dir", str(state_dir)])
    assert result.exit_code == 1 and "has no director yet" in result.output and "export" not in result.output


def test_commands_without_an_environment(tmp_path: Path) -> None:
    for verb in (["ssh", "--", "true"], ["print-env"]):
        result = CliRunner().invoke(app, [*verb[:1], "--state-dir", str(tmp_path / "nothing"), *verb[1:]])
        assert result.exit_code == 1 and "run `inception up` first" in result.output
