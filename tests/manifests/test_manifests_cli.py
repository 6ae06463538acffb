"""`inception manifests render/check` through typer's CliRunner, with real config, ops and output files."""
from __future__ import annotations

import os
from pathlib import Path
import stat

import pytest
import typer
import yaml
from typer.testing import CliRunner

from inception.commands import manifests as manifests_cmd

from .conftest import UUID, cf_manual_network


@pytest.fixture(scope="module")
def app():
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """test root"""

    manifests_cmd.register(root)
    return root


@pytest.fixture
def runner():
    return CliRunner()


def clean_exit(result) -> bool:
    """Exited through typer (no exception escaped the command). CliRunner catches a crash and records it in
    `result.exception` with exit code 1, so the output never shows a traceback: check the exception instead."""
    return result.exception is None or isinstance(result.exception, SystemExit)


def test_render_cf_to_file_and_check(app, runner, write_config, tmp_path):
    config = write_config("advanced")
    out = tmp_path / "out" / "cf.yml"
    ops = tmp_path / "ops.yml"
    ops.write_text("- {type: replace, path: /name, value: cf-prod}\n")
    result = runner.invoke(app, ["manifests", "render", "cf", "--config", str(config), "-o", str(ops),
                                 "-v", f"director_uuid={UUID}", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    manifest = yaml.safe_load(out.read_text())
    assert manifest["name"] == "cf-prod"
    store = config.parent / ".inception" / "dev-advanced" / "cf-vars.yml"
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    assert yaml.safe_load(store.read_text())["nats_password"] == manifest["properties"]["nats"]["password"]
    # a second render keeps every secret
    again = runner.invoke(app, ["manifests", "render", "cf", "--config", str(config), "-v", f"director_uuid={UUID}"])
    assert again.exit_code == 0
    assert yaml.safe_load(again.stdout)["properties"]["nats"]["password"] == manifest["properties"]["nats"]["password"]
    checked = runner.invoke(app, ["manifests", "check", str(out)])
    assert checked.exit_code == 0 and checked.stdout.strip() == f"{out}: OK (deployment-v1)"


def test_check_refuses_broken_manifest(app, runner, write_config, tmp_path):
    def edit(d):
        d["releases"]["cf"]["version"] = 175
        cf_manual_network(d)
    config = write_config("basic", edit=edit)
    rendered = runner.invoke(app, ["manifests", "render", "cf", "--config", str(config), "-v", f"director_uuid={UUID}",
                                   "--vars-store", str(tmp_path / "store.yml")])
    assert rendered.exit_code == 0, rendered.output
    doc = yaml.safe_load(rendered.stdout)
    doc["networks"][0] = {"name": "cf", "type": "dynamic", "dns": ["8.8.8.8"], "cloud_properties": {}}
    doc["networks"].append({"name": "floating", "type": "vip"})
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(doc))
    result = runner.invoke(app, ["manifests", "check", str(bad), "--zone-type", "basic"])
    assert result.exit_code == 1
    assert "job 'nats_z1'" in result.output and "static IPs only on manual or vip networks" in result.output
    assert "no vip network in a basic zone" in result.output
    assert clean_exit(result), result.exception


def test_clear_errors_without_traceback(app, runner, write_config, tmp_path):
    config = write_config("advanced", edit=lambda d: d["networks"][0].update(cdir="x"))
    result = runner.invoke(app, ["manifests", "render", "cf", "--config", str(config)])
    assert result.exit_code == 1 and "networks[0].cdir: unknown key 'cdir'" in result.output
    good = write_config("advanced")
    result = runner.invoke(app, ["manifests", "render", "cf", "--config", str(good)])
    assert result.exit_code == 1 and "missing variables: director_uuid" in result.output
    ops = tmp_path / "ops.yml"
    ops.write_text("- {type: replace, path: /nope, value: 1}\n")
    result = runner.invoke(app, ["manifests", "render", "cf", "--config", str(good), "-o", str(ops)])
    assert result.exit_code == 1 and "ops.yml operation 1 (replace /nope)" in result.output
    result = runner.invoke(app, ["manifests", "render", "nope", "--config", str(good)])
    assert result.exit_code == 1 and "unknown manifest kind 'nope'" in result.output
    (tmp_path / "m.yml").write_text("a: [\n")
    result = runner.invoke(app, ["manifests", "check", str(tmp_path / "m.yml")])
    assert result.exit_code == 1 and "invalid YAML" in result.output
    assert clean_exit(result), result.exception


def test_zone_type_read_from_simulator(app, runner, write_config, sim, tmp_path):
    """With no zone_type in the file, render asks the CloudStack API (here the simulator) for it."""
    def edit(d):
        d["cloudstack"].pop("zone_type")
        d["cloudstack"].update(endpoint=sim.endpoint, api_key=sim.api_key, secret_key=sim.secret_key)
    config = write_config("basic", edit=edit)
    result = runner.invoke(app, ["manifests", "render", "cloud-config", "--config", str(config)])
    assert result.exit_code == 0, result.output
    # the example's networks, and no vip: basic zone
    assert [n["type"] for n in yaml.safe_load(result.stdout)["networks"]] == ["dynamic", "manual"]


def test_root_cli_exposes_manifests(runner):
    from inception.cli import app as root

    result = runner.invoke(root, ["manifests", "--help"])
    assert result.exit_code == 0 and "render" in result.output and "check" in result.output


def test_malformed_input_is_an_error_not_a_crash(app, runner, write_config, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: cf\njobs: [nats]\n")
    result = runner.invoke(app, ["manifests", "check", str(bad)])
    assert result.exit_code == 1 and clean_exit(result), result.exception
    assert "job [0]: found str 'nats' (rule: jobs[0] is a hash)" in result.output
    config = write_config("advanced")
    base = ["manifests", "render", "cf", "--config", str(config), "-v", f"director_uuid={UUID}"]
    cases = [
        ("- {type: replace, path: /jobs/name=nats_z1/networks, value: [default]}\n",
         "job 'nats_z1': networks[0]: found str 'default'"),
        ("- {type: replace, path: /variables/-, value: {name: x, type: password, options: {length: many}}}\n",
         "variable 'x': options.length must be a positive integer"),
        ("- {type: replace, path: /, value: [1]}\n", "not a hash"),
    ]
    for text, words in cases:
        ops = tmp_path / "ops.yml"
        ops.write_text(text)
        result = runner.invoke(app, [*base, "-o", str(ops)])
        assert result.exit_code == 1 and clean_exit(result), result.exception
        assert words in result.output, result.output
    result = runner.invoke(app, [*base, "--output", str(tmp_path)])  # a directory
    assert result.exit_code == 1 and clean_exit(result), result.exception
    assert f"--output {tmp_path}: cannot write" in result.output


def test_check_prints_release_spec_warnings_and_errors(app, runner, tmp_path):
    """A property no job of bosh 262.3 declares is a warning (exit 0, said on stderr); a job the release does not
    have is an error (exit 1, one line naming the instance group, the job and the fix)."""
    micro = yaml.safe_load((Path(__file__).parent / "golden" / "micro-advanced.yml").read_text())
    micro["instance_groups"][0]["properties"]["agent"]["env"] = {"bosh": {"blobstores": []}}
    warned = tmp_path / "warned.yml"
    warned.write_text(yaml.safe_dump(micro))
    result = runner.invoke(app, ["manifests", "check", str(warned)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{warned}: OK (create-env, 1 warning)"
    assert "warning: instance group 'bosh': property agent.env is declared by no job" in " ".join(result.stderr.split())
    micro["instance_groups"][0]["jobs"][1]["name"] = "postgres"
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(micro))
    result = runner.invoke(app, ["manifests", "check", str(bad)])
    assert result.exit_code == 1 and clean_exit(result)
    assert "instance group 'bosh' job 'postgres': release bosh 262.3 has no job 'postgres'" in " ".join(result.output.split())


@pytest.mark.parametrize("zone, edit, says", [
    ("advanced", lambda d: d["releases"]["cf"].update(version=160), "releases.cf.version: cf-release v160 cannot"),
    ("advanced", lambda d: d["stemcell"].update(os="ubuntu-jammy"), "does not run on a ubuntu-jammy stemcell"),
    ("basic", lambda d: d["cf"].pop("network"), "networks[0].type: cf needs static IPs"),
])
def test_unsupported_cf_combinations_are_refused_in_one_line(app, runner, write_config, zone, edit, says):
    result = runner.invoke(app, ["manifests", "render", "cf", "--config", str(write_config(zone, edit=edit)),
                                 "-v", f"director_uuid={UUID}"])
    assert result.exit_code == 1 and says in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and clean_exit(result)
