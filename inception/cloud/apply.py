"""The CloudStack half of `up`: plan (refusing what cannot be applied), confirm destructive changes, run the
steps concurrently along their dependencies, drop what the config no longer wants, record the outputs."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from inception.cloud.bootstrap import is_remote, ssh_override
from inception.cloud.context import CloudContext
from inception.cloud.director_address import Placement, place_director, record_placement
from inception.cloud.layout import IP_KEY, VM_KEY, build_steps
from inception.cloud.preflight import preflight
from inception.cloud.report import console, err, line, table
from inception.cloud.runner import Assessment, LocalTask, converge_retrying, run_graph
from inception.cloud.session import Session
from inception.cloud.steps import Step
from inception.cloud.teardown import destroy_recorded
from inception.config.credentials import api_settings
from inception.config.loader import ConfigError, Problem, save_config, validate_config
from inception.plan import Plan, make_plan

PAST = {"create": "created", "reuse": "reused", "adopt": "adopted", "use": "used", "replace": "replaced"}

DEMO_CONFIG: dict[str, Any] = {
    "name": "demo",
    "cloudstack": {"zone": "Sim-Basic"},
    "networks": [{"name": "default", "type": "manual", "cidr": "192.0.2.0/24", "gateway": "192.0.2.1",
                  "reserved": ["192.0.2.2-192.0.2.9"], "static": ["192.0.2.10-192.0.2.40"],
                  "security_groups": ["demo-bosh"]}],
    # No director runs in the simulator; this UUID only lets the v1 manifests (cf, full BOSH) render.
    "director": {"ip": "192.0.2.10", "uuid": "00000000-0000-4000-8000-000000000001"},
    "full_bosh": {"ip": "192.0.2.11"},
    "offerings": {"director": {"compute": "Medium Instance", "disk_size": 40960},
                  "vm_types": {"small": {"compute": "Small Instance"}, "medium": {"compute": "Medium Instance"},
                               "large": {"compute": "Large Instance"}, "runner": {"compute": "Large Instance"},
                               "router": {"compute": "Small Instance"}}},
    # The trusty line bosh 262.3 and cf v175 run on (docs/manifests.md, Support matrix). bosh.io publishes no
    # CloudStack stemcell; this is the one Orange published for the CloudStack CPI, with its sha1 as given in
    # cloudfoundry-community/bosh-cloudstack-cpi-release README.md. The simulator downloads nothing; on a real
    # cloud use a stemcell for your hypervisor, e.g. bosh-linux-stemcell-builder's
    # bosh-stemcell-<version>-cloudstack-xen-ubuntu-trusty-go_agent.tgz as stemcell.file.
    "stemcell": {"url": "https://orange-candidate-cloudstack-xen-stemcell.s3.amazonaws.com/bosh-stemcell/cloudstack/"
                        "bosh-stemcell-3262.3-cloudstack-xen-ubuntu-trusty-go_agent.tgz",
                 "sha1": "cf6f6925d133d0b579d154694025c027bc64ef88",
                 "name": "bosh-cloudstack-xen-ubuntu-trusty-go_agent", "version": "3262.3"},
    # bosh 262.3, the version the director manifests are written for, with its sha1 as bosh.io publishes it
    # (pinned with this URL in cloudfoundry/bosh-google-cpi-release docs/concourse/README.md)
    "releases": {"bosh": {"version": "262.3", "url": "https://bosh.io/d/github.com/cloudfoundry/bosh?v=262.3",
                          "sha1": "31d2912d4320ce6079c190f2218c6053fd1e920f"},
                 "cf": {"version": 175}},
    "cf": {"system_domain": "demo.example.com"},
    "inception": {"offering": "Small Instance", "template": "Ubuntu 22.04 LTS"},
}


def cloudstack_configured() -> bool:
    """True when CLOUDSTACK_* or a cloudstack.ini region gives an endpoint and keys."""
    try:
        api_settings(validate_config({"name": "probe", "cloudstack": {"zone": "probe"}}))
    except ConfigError:
        return False
    return True


def prepare(config_path: Path, *, interactive: bool) -> None:
    """Make sure a config exists: the wizard when a CloudStack is configured, else an offline demo."""
    if config_path.exists():
        return
    if cloudstack_configured():
        if not interactive:
            raise ConfigError(str(config_path), [Problem("", "file not found", "run `inception init` to write it")])
        from inception.wizard import run_wizard

        run_wizard(config_path, reconfigure=False)
        return
    save_config(config_path, DEMO_CONFIG)
    console.print(f"No {config_path} and no CloudStack configured (cloudstack.endpoint, CLOUDSTACK_ENDPOINT, "
                  f"cloudstack.ini): wrote an offline demo config to {config_path} for the [bold]embedded "
                  "simulator[/]. Run `inception init` to target a real CloudStack.")


def _confirm_destructive(rows: list, confirm: Callable[[str], bool] | bool | None) -> None:
    if not rows or confirm is None:
        return
    console.print(table("Deletions and replacements", ["action", "resource", "why"],
                        [[r.action, r.label, r.detail] for r in rows]))
    if confirm is False:
        err.print("[red]refused:[/] these changes delete resources; pass --yes to apply them non-interactively")
        raise typer.Exit(1)
    if not confirm("Apply them?"):
        raise typer.Exit(1)


# Kinds of records the config no longer wants that are deleted only once the new steps ran: rules, so that a changed
# allowed_cidrs never leaves the environment unreachable in between. Everything else goes first, as it may stand
# in the way of its replacement (static NAT before port forwarding on the same IP).
DELETE_LAST = ("sg_ingress", "firewall_rule", "egress_rule")
REFUSED = "[red]refused:[/] nothing was changed; fix the config (or the cloud) and run `inception up` again"


@dataclass
class Verdict:
    """What `up` would do, as `plan` shows it: the steps, their plan, or the problems that stop it."""

    steps: list[Step]
    plan: Plan | None
    problems: list[Problem]
    director: Placement | None = None


def check_run(session: Session, *, bootstrap: bool) -> Verdict:
    """Pre-flight, then (when it passes) the plan: read-only, shared by `plan` and `up` so they agree."""
    problems = preflight(session.config, session.ctx.client, state=session.state, bootstrap=bootstrap,
                         remote=is_remote(session))
    if problems:
        return Verdict([], None, problems)
    try:
        director = place_director(session.config, session.ctx.client, session.ctx.zone_id, session.state) \
            if bootstrap else None
        steps = build_steps(session.ctx)
    except ConfigError as exc:
        return Verdict([], None, exc.problems)
    plan = make_plan(CloudContext(session.config, session.state, session.target), steps)
    refused = [Problem(r.label, r.detail) for r in plan.refusals]
    return Verdict(steps, plan, refused, director)


def refuse(problems: list[Problem]) -> None:
    """Stop with every problem, one line each with its fix (the same text from `plan` and `up`)."""
    if not problems:
        return
    for problem in problems:
        err.print(f"[red]✗[/] {problem}", highlight=False)
    err.print(REFUSED)
    raise typer.Exit(1)


def apply_plan(session: Session, verdict: Verdict, *, workers: int,
               confirm: Callable[[str], bool] | bool | None, tasks: list[LocalTask] = ()) -> list[Step]:
    refuse(verdict.problems)
    assert verdict.plan is not None
    steps = verdict.steps
    _confirm_destructive([r for r in verdict.plan.rows if r.action in ("delete", "replace")], confirm)
    zone = session.ctx.zone
    if (session.state.get_value("zone") or {}).get("id") != zone["id"]:
        session.state.set_value("zone", {"id": zone["id"], "name": zone["name"]})
    record_placement(session.state, verdict.director)

    def done(step: Any, found: Assessment | str | None, error: BaseException | None, seconds: float) -> None:
        if error is not None:
            session.ctx.stopping.set()
            line("failed", step.label, str(error), seconds)
        elif isinstance(found, str):
            line("done", step.label, found, seconds)
        elif found is not None:
            line(PAST.get(found.action, found.action), step.label, found.detail if found.action != "use" else "",
                 seconds)

    def work(step: Any) -> Assessment | str:
        return step.run() if isinstance(step, LocalTask) else converge_retrying(session.ctx, step)

    wanted = {s.key for s in steps}

    def drop(last: bool) -> None:
        destroy_recorded(session.ctx, {}, lambda label, action, detail: line(action, label, detail),
                         only=lambda record: record.key not in wanted and (record.kind in DELETE_LAST) == last)

    def interrupted(running: int) -> None:
        session.ctx.stopping.set()
        err.print(f"[yellow]interrupted:[/] finishing the {running} running step(s) so that each is recorded; "
                  "no new one starts")

    drop(last=False)
    run_graph([*steps, *tasks], work, workers=workers, on_done=done,  # type: ignore[list-item]
              on_interrupt=interrupted)
    drop(last=True)
    _record_outputs(session)
    return steps


def _record_outputs(session: Session) -> None:
    vm = session.state.get(VM_KEY)
    ip = session.state.get(IP_KEY)
    private = vm.attrs.get("private_ip") if vm else None
    public = ip.attrs.get("ipaddress") if ip else None
    # Where `inception ssh` reaches the VM: inception.ssh_address when set (a NAT, a jump host, a test sshd).
    address, port = ssh_override(session.config) or (public or private, 22)
    session.state.set_output(inception_vm=vm.id if vm else None, inception_private_ip=private,
                             inception_public_ip=public, inception_address=address, inception_ssh_port=port)
