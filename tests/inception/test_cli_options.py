"""The `inception` CLI is consistent: no type shown beside on/off flags, `--version`, one meaning per short
option on every verb, the same config default and state-dir option wherever they apply; `cloudstack-cpi`
answers --help and --version like a command-line program, not with a JSON error; `cloudstack-sim` has
`--version`, `-h` and typed placeholders instead of `<bool>`/`<str>`."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from inception.cli import app

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STATEFUL = {"up", "plan", "destroy", "status", "print-env", "ssh", "deploy-cf", "deploy-bosh", "cleanup-leftovers"}


def _commands(command=None, path=()):
    """(path, click command) for every leaf command."""
    command = command or typer.main.get_command(app)
    subs = getattr(command, "commands", None)
    if not subs:
        yield path, command
        return
    for name, sub in subs.items():
        yield from _commands(sub, (*path, name))


ALL = list(_commands())


def _options(command) -> dict[str, object]:
    return {opt: param for param in command.params for opt in (*param.opts, *param.secondary_opts)}


@pytest.mark.parametrize("path", [(), *(p for p, _ in ALL), ("manifests",), ("release",)], ids=" ".join)
def test_help_shows_no_type_beside_flags(path) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output and "--help" in result.output
    assert CliRunner().invoke(app, [*path, "-h"], env={"COLUMNS": "200"}).output == result.output


def test_version_comes_from_the_package_metadata() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"inception {version('cloudstack-inception')}\n"


def test_each_short_option_means_one_thing_on_every_verb() -> None:
    meanings: dict[str, set[str]] = {}
    for _, command in ALL:
        for param in command.params:
            if param.param_type_name != "option":
                continue
            shorts = [o for o in param.opts if not o.startswith("--")]
            longs = [o for o in param.opts if o.startswith("--")]
            for short in shorts:
                meanings.setdefault(short, set()).update(longs)
    assert {short: longs for short, longs in meanings.items() if len(longs) != 1} == {}
    assert meanings["-o"] == {"--ops-file"} and meanings["-c"] == {"--config"} and meanings["-s"] == {"--state-dir"}


def test_state_dir_and_config_are_the_same_options_wherever_used() -> None:
    verbs = {" ".join(path): command for path, command in ALL}
    for name in STATEFUL:
        options = _options(verbs[name])
        state = options.get("--state-dir")
        assert state is not None and "-s" in state.opts and state.envvar == "INCEPTION_STATE_DIR", name
    for name, command in verbs.items():
        options = _options(command)
        if name not in STATEFUL:
            assert "--state-dir" not in options, f"{name}: --state-dir is the environment's state dir only"
        if "--config" in options and name != "cpi-check":   # cpi-check without a config checks the simulator
            assert options["--config"].default == Path("inception.yml") and "-c" in options["--config"].opts, name


def test_manifests_render_reads_inception_yml_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(REPO / "manifests" / "examples" / "config-basic.yml", tmp_path / "inception.yml")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["manifests", "render", "cloud-config"])
    assert result.exit_code == 0, result.output
    assert "vm_types:" in result.output and "networks:" in result.output


def test_console_scripts_answer_version_and_help_as_real_processes(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    expected = version("cloudstack-inception")
    inception = subprocess.run([str(BIN / "inception"), "--version"], capture_output=True, text=True, timeout=60,
                               env=env)
    assert (inception.returncode, inception.stdout) == (0, f"inception {expected}\n")
    cpi_version = subprocess.run([str(BIN / "cloudstack-cpi"), "--version"], capture_output=True, text=True,
                                 timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert (cpi_version.returncode, cpi_version.stdout) == (0, f"cloudstack-cpi {expected}\n")
    sim_version = subprocess.run([str(BIN / "cloudstack-sim"), "--version"], capture_output=True, text=True,
                                 timeout=60, env=env)
    assert (sim_version.returncode, sim_version.stdout) == (0, f"cloudstack-sim {expected}\n")
    for argv in (["-h"], ["serve", "--help"]):
        sim_help = subprocess.run([str(BIN / "cloudstack-sim"), *argv], capture_output=True, text=True, timeout=60,
                                  env=env)
        assert sim_help.returncode == 0 and "<bool>" not in sim_help.stdout and "<str>" not in sim_help.stdout
    assert "--port PORT" in sim_help.stdout and "-v, --verbose  " in sim_help.stdout
    for flag in ("--help", "-h"):
        cpi_help = subprocess.run([str(BIN / "cloudstack-cpi"), flag], capture_output=True, text=True, timeout=60,
                                  env=env, stdin=subprocess.DEVNULL)
        assert cpi_help.returncode == 0 and cpi_help.stderr == ""
        assert cpi_help.stdout.startswith("cloudstack-cpi: the BOSH CPI for Apache CloudStack")
        for words in ("usage: cloudstack-cpi", "one JSON request on stdin", "cpi.json", "--config PATH"):
            assert words in cpi_help.stdout
        with pytest.raises(json.JSONDecodeError):
            json.loads(cpi_help.stdout)
    # without those flags it is still the CPI: a request in, a response out
    info = subprocess.run([str(BIN / "cloudstack-cpi")], input='{"method": "info", "arguments": [], "context": {}}',
                          capture_output=True, text=True, timeout=60, env=env)
    assert json.loads(info.stdout)["result"]["api_version"] == 2
