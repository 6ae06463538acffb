"""Asynchronous jobs: queued by async commands, finished after the operation's duration, polled by clients.

A job's work runs under the store lock and returns the rendered object the job result carries; an ApiError it
raises fails the job (jobstatus 2) with that error, after the command's rollback undid what the command began.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .clock import now_str
from .errors import ApiError, internal
from .identity import java_class, owner_fields
from .store import Store, new_id
from .timing import Timing

log = logging.getLogger("simulator.jobs")

PENDING, SUCCEEDED, FAILED = 0, 1, 2
Work = Callable[[], "dict[str, Any] | None"]
Rollback = Callable[[ApiError], None]


class JobRunner:
    def __init__(self, store: Store, timing: Timing) -> None:
        self.store = store
        self.timing = timing
        self._pending: dict[str, tuple[threading.Timer, Callable[[], None]]] = {}
        self._pending_lock = threading.Lock()

    def submit(self, *, command: str, result_key: str | None, work: Work, operation: str,
               instance_type: str | None = None, instance_id: str | None = None,
               account: dict[str, Any], rollback: Rollback | None = None,
               fail_with: ApiError | None = None) -> dict[str, Any]:
        """Queue a job of the calling `account`; returns the job record. The caller holds the store lock."""
        owner = owner_fields(account)
        job = self.store.add("asyncjob", {
            "id": new_id(), "jobid": None, "cmd": java_class(command), "jobstatus": PENDING,
            "jobprocstatus": 0, "jobresultcode": 0, "jobinstancetype": instance_type, "jobinstanceid": instance_id,
            "created": now_str(), "userid": account["_userid"], "accountid": owner["_accountid"],
            "account": owner["account"], "domainid": owner["domainid"], "domain": owner["domain"],
        })
        job["jobid"] = job["id"]

        delay = self.timing.duration(operation)
        if delay <= 0:
            self._finish(job, result_key, work, rollback, fail_with)
            return job

        def run() -> None:
            with self._pending_lock:
                if self._pending.pop(job["id"], None) is None:
                    return  # already finished by finish_all_now
            with self.store.lock:
                self._finish(job, result_key, work, rollback, fail_with)
                self.store.save()

        timer = threading.Timer(delay, run)
        timer.daemon = True
        with self._pending_lock:
            self._pending[job["id"]] = (timer, run)
        timer.start()
        return job

    def _finish(self, job: dict, result_key: str | None, work: Work, rollback: Rollback | None,
                fail_with: ApiError | None) -> None:
        try:
            if fail_with is not None:
                raise fail_with
            result = work()
        except ApiError as err:
            if rollback is not None:
                rollback(err)
            self._fail(job, err)
            return
        except Exception as exc:  # a simulator bug must still answer like a server: job failed with 530
            log.exception("job %s crashed", job["jobid"])
            err = internal(f"Job failed due to an internal error: {exc}")
            if rollback is not None:
                rollback(err)
            self._fail(job, err)
            return
        job["jobstatus"] = SUCCEEDED
        job["jobresultcode"] = 0
        job["jobresulttype"] = "object"
        job["jobresult"] = {result_key: result} if result_key else {"success": True}
        job["completed"] = now_str()

    @staticmethod
    def _fail(job: dict, err: ApiError) -> None:
        job["jobstatus"] = FAILED
        job["jobresultcode"] = err.errorcode
        job["jobresulttype"] = "object"
        job["jobresult"] = {"errorcode": err.errorcode, "errortext": err.errortext}
        job["completed"] = now_str()

    def fail_orphans(self) -> None:
        """After a restart, jobs that were running are failed as CloudStack fails them on a management restart."""
        for job in self.store.find("asyncjob", jobstatus=PENDING):
            self._fail(job, internal("Job was cancelled because the management server was restarted"))

    def finish_all_now(self) -> None:
        """On a clean shutdown, complete the pending jobs at once so the saved state is settled."""
        with self._pending_lock:
            pending = list(self._pending.values())
        for timer, run in pending:
            timer.cancel()
            run()
