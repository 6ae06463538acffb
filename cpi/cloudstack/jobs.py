"""Waiting for CloudStack async jobs (queryAsyncJobResult) with adaptive polling."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .errors import CloudStackConnectionError, CloudStackError, JobFailedError, JobTimeoutError
from .policy import PollSchedule

log = logging.getLogger("cloudstack")

PENDING = 0
SUCCEEDED = 1

# query(jobid, remaining_seconds) -> the unwrapped queryAsyncJobResult body
JobQuery = Callable[[str, float], dict[str, Any]]


def wait_for_job(
    query: JobQuery,
    jobid: str,
    *,
    command: str,
    operation: str,
    timeout: float,
    schedule: PollSchedule,
) -> dict[str, Any]:
    """Poll until the job finishes; return its ``jobresult`` (e.g. ``{"virtualmachine": {...}}``).

    Transient trouble while polling (unreachable endpoint, 5xx, throttling) does not end the
    wait: the job runs on regardless, so polling goes on until the deadline.
    """
    started = time.monotonic()
    deadline = started + timeout
    polls = 0
    last_trouble: CloudStackError | None = None
    delays = schedule.delays()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        time.sleep(min(next(delays), remaining))
        polls += 1
        try:
            job = query(jobid, max(deadline - time.monotonic(), 0.1))
        except CloudStackError as exc:
            if not _transient(exc):
                raise
            last_trouble = exc
            log.debug("polling job %s of %s: %s; still waiting", jobid, command, exc)
            continue
        status = job.get("jobstatus", PENDING)
        if status == PENDING:
            continue
        elapsed = time.monotonic() - started
        log.debug("job %s of %s finished with status %s after %.2fs (%d polls)", jobid, command, status, elapsed, polls)
        result = job.get("jobresult") or {}
        if status == SUCCEEDED and not job.get("jobresultcode"):
            return result
        raise _failure(job, result, jobid=jobid, command=command, operation=operation)
    detail = f"; last polling error: {last_trouble}" if last_trouble else ""
    raise JobTimeoutError(
        f"{operation} did not finish within {timeout:g}s ({command}, job {jobid}){detail}",
        jobid=jobid,
        command=command,
        operation=operation,
        timeout=timeout,
    )


def _transient(exc: CloudStackError) -> bool:
    return isinstance(exc, CloudStackConnectionError) or exc.is_throttled or (exc.errorcode or 0) >= 500


def _failure(job: dict[str, Any], result: Any, *, jobid: str, command: str, operation: str) -> JobFailedError:
    result = result if isinstance(result, dict) else {"errortext": str(result)}
    errorcode = result.get("errorcode", job.get("jobresultcode"))
    errortext = result.get("errortext") or ("job cancelled" if job.get("jobstatus") == 3 else "no error text")
    return JobFailedError(
        f"{operation} failed ({command}, job {jobid}): {errortext} [errorcode {errorcode}]",
        jobid=jobid,
        command=command,
        errorcode=errorcode,
        cserrorcode=result.get("cserrorcode"),
        errortext=errortext,
    )
