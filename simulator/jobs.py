"""Asynchronous jobs: queued by async commands, finished after the operation's duration, polled by clients.

A job's work runs under the store lock and returns the rendered object the job result carries; an ApiError it
raises fails the job (jobstatus 2) with that error, after the command's rollback undid what the command began.

Work on one VM is serialised as CloudStack serialises its VM work jobs (VmWorkStart, VmWorkStop, VmWorkAttachVolume,
...): AsyncJobManagerImpl.submitAsyncJob puts each on the VM's sync queue with a queue size limit of 1, and the API
job that asked for it stays pending until its turn has come and gone. A job submitted with `vm_queue` therefore
waits, pending, until the jobs queued before it on that VM have finished (succeeded or failed); its duration starts
then. Jobs on different VMs, and jobs without a `vm_queue`, run in parallel.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
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
Begin = Callable[[], None]


@dataclass
class _Queued:
    """A submitted job and what finishing it takes."""
    job: dict[str, Any]
    result_key: str | None
    work: Work
    rollback: Rollback | None
    fail_with: ApiError | None
    delay: float
    vm_queue: str | None
    on_start: Begin | None


class JobRunner:
    def __init__(self, store: Store, timing: Timing) -> None:
        self.store = store
        self.timing = timing
        self._pending: dict[str, tuple[threading.Timer, _Queued]] = {}   # jobs whose duration is running
        self._vm_queues: dict[str, deque[_Queued]] = {}   # per VM: the running job first, then the waiting ones
        self._pending_lock = threading.Lock()              # taken after the store lock, never before it
        self._draining = False

    def submit(self, *, command: str, result_key: str | None, work: Work, operation: str,
               instance_type: str | None = None, instance_id: str | None = None,
               account: dict[str, Any], rollback: Rollback | None = None,
               fail_with: ApiError | None = None, vm_queue: str | None = None,
               on_start: Begin | None = None) -> dict[str, Any]:
        """Queue a job of the calling `account`; returns the job record. The caller holds the store lock.

        vm_queue: the id of the VM whose work queue the job joins (None: it runs at once). on_start: runs when
        the job's turn comes (under the store lock), as the state changes a VM work job makes when it starts."""
        owner = owner_fields(account)
        job = self.store.add("asyncjob", {
            "id": new_id(), "jobid": None, "cmd": java_class(command), "jobstatus": PENDING,
            "jobprocstatus": 0, "jobresultcode": 0, "jobinstancetype": instance_type, "jobinstanceid": instance_id,
            "created": now_str(), "userid": account["_userid"], "accountid": owner["_accountid"],
            "account": owner["account"], "domainid": owner["domainid"], "domain": owner["domain"],
        })
        job["jobid"] = job["id"]
        entry = _Queued(job, result_key, work, rollback, fail_with, self.timing.duration(operation), vm_queue,
                        on_start)
        waits = False
        if vm_queue is not None:
            with self._pending_lock:
                queue = self._vm_queues.setdefault(vm_queue, deque())
                waits = bool(queue)
                queue.append(entry)
        if not waits:
            self._begin(entry)
        return job

    def _begin(self, entry: _Queued) -> None:
        """The job's turn: its duration starts now (or it finishes at once). The caller holds the store lock."""
        if entry.on_start is not None:
            entry.on_start()
        if entry.delay <= 0 or self._draining:
            self._complete(entry)
            return
        job_id = entry.job["id"]

        def fire() -> None:
            with self.store.lock:
                with self._pending_lock:
                    if self._pending.pop(job_id, None) is None:
                        return  # already finished by finish_all_now
                self._complete(entry)
                self.store.save()

        timer = threading.Timer(entry.delay, fire)
        timer.daemon = True
        with self._pending_lock:
            self._pending[job_id] = (timer, entry)
        timer.start()

    def _complete(self, entry: _Queued) -> None:
        """Finish the job, then start the next one waiting on its VM. The caller holds the store lock."""
        try:
            self._finish(entry)
        finally:
            following = None
            if entry.vm_queue is not None:
                with self._pending_lock:
                    queue = self._vm_queues[entry.vm_queue]
                    queue.popleft()
                    if queue:
                        following = queue[0]
                    else:
                        del self._vm_queues[entry.vm_queue]
            if following is not None:
                self._begin(following)

    def _finish(self, entry: _Queued) -> None:
        job, rollback = entry.job, entry.rollback
        try:
            if entry.fail_with is not None:
                raise entry.fail_with
            result = entry.work()
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
        job["jobresult"] = {entry.result_key: result} if entry.result_key else {"success": True}
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
        """On a clean shutdown, complete the pending jobs at once so the saved state is settled: the running ones,
        and after each the jobs waiting behind it on its VM, in their order."""
        with self.store.lock:
            self._draining = True
            while True:
                with self._pending_lock:
                    if not self._pending:
                        return
                    job_id = next(iter(self._pending))
                    timer, entry = self._pending.pop(job_id)
                timer.cancel()
                self._complete(entry)
