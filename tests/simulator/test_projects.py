"""Projects (createProject, listProjects, deleteProject): listCapabilities says users may create them, so the
4.18 commands a client calls answer as CloudStack's ProjectManagerImpl does."""
from __future__ import annotations

from .compute import Cloud, api_error, cloud, unique  # noqa: F401  (fixture)


def test_create_list_delete(cloud: Cloud):
    assert cloud.api.listCapabilities()["capability"]["allowusercreateprojects"] is True
    name = unique("prj")
    start = cloud.raw.createProject(name=name, displaytext="Project one")
    assert set(start) == {"id", "jobid"}
    project = cloud.raw.queryAsyncJobResult(jobid=start["jobid"])["jobresult"]["project"]
    assert project["id"] == start["id"] and project["name"] == name and project["state"] == "Active"
    assert project["displaytext"] == "Project one" and project["projectaccountname"] == f"PrjAcct-{name}-1"
    assert project["owner"] == [{"account": "admin", "accountid": project["owner"][0]["accountid"]}]
    assert (project["vmlimit"], project["vmtotal"], project["vmavailable"]) == ("20", 0, "20")
    assert project["domain"] == "ROOT" and project["tags"] == []
    listed = cloud.api.listProjects(id=project["id"])
    assert listed == {"count": 1, "project": [project]}
    assert cloud.api.listProjects(name=name)["project"][0]["id"] == project["id"]
    assert cloud.api.listProjects(keyword="project ONE", state="active")["project"][0]["id"] == project["id"]
    cloud.api.createTags(resourceids=project["id"], resourcetype="Project", tags=[{"key": "team", "value": name}])
    tagged = cloud.api.listProjects(tags=[{"key": "team", "value": name}])["project"]
    assert [p["id"] for p in tagged] == [project["id"]] and tagged[0]["tags"][0]["resourcetype"] == "Project"
    assert cloud.api.deleteProject(id=project["id"]) == {"success": True}
    assert cloud.api.listProjects(id=project["id"]) == {}


def test_refusals(cloud: Cloud):
    name = unique("prj")
    cloud.api.createProject(name=name, displaytext=name)
    twice = api_error(lambda: cloud.api.createProject(name=name, displaytext="again"))
    assert (twice["errorcode"], twice["errortext"]) == (431, f"Project with name {name} already exists in domain "
                                                             "id=1")
    half = api_error(lambda: cloud.api.createProject(name=unique("prj"), displaytext="x", account="admin"))
    assert (half["errorcode"], half["errortext"]) == (431, "Account name and domain id must be specified together")
    missing = api_error(lambda: cloud.api.createProject(name=unique("prj")))
    assert missing["errorcode"] == 431 and missing["errortext"].endswith("due to missing parameter displaytext")
    unknown = api_error(lambda: cloud.api.deleteProject(id="00000000-0000-4000-8000-000000000000"))
    assert unknown["errorcode"] == 431
