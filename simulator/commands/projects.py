"""Projects: createProject, listProjects, deleteProject (listCapabilities says users may create projects).

Texts and order follow ProjectManagerImpl.createProject / enableProject / deleteProject (apache/cloudstack
server/src/main/java/com/cloud/projects/ProjectManagerImpl.java). createProject is an async create command: the
project exists from the call on (state Disabled) and its job enables it (Active). The simulator puts no resources
in projects (a `projectid` parameter is ignored elsewhere), so deleteProject never finds anything to clean up.
"""
from __future__ import annotations

from typing import Any

from ..clock import now_str
from ..errors import param_error
from ..registry import Ctx, command, public
from ..shapes import ListShape, creation_job, list_command, removal_job, same
from ..store import new_id

DOMAIN_DBID = 1   # ROOT, the account's domain, as CloudStack numbers it
# The resource limits of a new project account: the "Project Defaults" of the global configuration (apache/cloudstack
# server/src/main/java/com/cloud/configuration/Config.java: max.project.user.vms, .public.ips, .volumes, .snapshots,
# .templates, .networks, .vpcs 20; .cpus 40; .memory 40960 MB; .primary.storage 200 GiB; .secondary.storage 400 GiB).
LIMITS = {"vm": 20, "ip": 20, "volume": 20, "snapshot": 20, "template": 20, "network": 20, "vpc": 20, "cpu": 40,
          "memory": 40960, "primarystorage": 200, "secondarystorage": 400}


def project_view(ctx: Ctx, project: dict[str, Any]) -> dict[str, Any]:
    """ProjectResponse: nothing in the project, so every total is 0 and every limit is all available."""
    usage: dict[str, Any] = {}
    for name, limit in LIMITS.items():
        usage.update({f"{name}limit": str(limit), f"{name}total": 0, f"{name}available": str(limit)})
    usage.update(vmrunning=0, vmstopped=0)
    return public({**project, **usage, "tags": ctx.tags_of(project["id"])})


@command("createProject")
def create_project(ctx: Ctx, p: dict) -> dict:
    if (p.get("account") is None) != (p.get("domainid") is None):
        raise param_error("Account name and domain id must be specified together")
    if p.get("userid") is not None and p.get("accountid") is None and p.get("domainid") is None:
        raise param_error("Domain ID and account ID must be provided with User ID")
    if p.get("account") is not None and p["account"] != ctx.owner()["account"]:
        raise param_error(f"Unable to find account {p['account']} in domain id={DOMAIN_DBID}")   # (wording unverified)
    name = p["name"]
    if ctx.store.first("project", name=name) is not None:
        raise param_error(f"Project with name {name} already exists in domain id={DOMAIN_DBID}")
    owner = ctx.owner()
    project = ctx.store.add("project", {
        "id": new_id(), "name": name, "displaytext": p["displaytext"], "domainid": owner["domainid"],
        # `owner` is a list of maps in 4.18; the simulator names the owning account (keys not checked upstream).
        "domain": owner["domain"], "owner": [{"account": owner["account"], "accountid": owner["_accountid"]}],
        "projectaccountname": f"PrjAcct-{name}-{DOMAIN_DBID}", "state": "Disabled", "created": now_str()})
    # The job runs enableProject.
    return creation_job(ctx, "project", project, result_key="project", instance_type="Project", operation="job",
                        becomes="Active", view=project_view)


@command("deleteProject")
def delete_project(ctx: Ctx, p: dict) -> dict:
    project = ctx.lookup("project", p, "id")
    return removal_job(ctx, "project", project, instance_type="Project")


list_command("listProjects", ListShape(kind="project", keyword=("name", "displaytext"),
                                       equal=same("displaytext"), text=same("state"),
                                       view=lambda ctx, project, p: project_view(ctx, project)))
