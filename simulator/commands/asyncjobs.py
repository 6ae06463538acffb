"""Polling asynchronous jobs."""
from __future__ import annotations

from ..jobs import PENDING
from ..registry import Ctx, command, public
from ..shapes import ListShape, list_command

JOB_FIELDS = ("accountid", "userid", "cmd", "jobstatus", "jobprocstatus", "jobresultcode", "jobresulttype",
              "jobresult", "jobinstancetype", "jobinstanceid", "created", "completed", "jobid")


def job_view(job: dict) -> dict:
    view = {k: job.get(k) for k in JOB_FIELDS}
    if job["jobstatus"] == PENDING:
        view.pop("jobresult")
        view.pop("jobresulttype")
    return public(view) | {"jobresultcode": job.get("jobresultcode", 0), "jobstatus": job["jobstatus"]}


@command("queryAsyncJobResult")
def query_async_job_result(ctx: Ctx, p: dict) -> dict:
    job = ctx.lookup("asyncjob", p, "jobid")
    return job_view(job)


list_command("listAsyncJobs", ListShape(
    kind="asyncjob", key="asyncjobs", keyword=(),
    view=lambda ctx, j, p: job_view(j) | {"account": j["account"], "domainid": j["domainid"]}))
