"""Converge steps: decide what each found resource is (ours, adopted, someone else's), create what is
missing, record every resource, and run independent steps concurrently along the dependency graph."""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

from cpi.cloudstack.errors import (
    CloudStackConnectionError,
    CloudStackError,
    JobFailedError,
    JobTimeoutError,
    OutcomeUnknownError,
)
from inception.cloud import kinds
from inception.cloud.context import ENV_TAG, CloudContext
from inception.cloud.steps import Step
from inception.state import Resource

T = TypeVar("T")


class StepRefused(Exception):
    """A step cannot proceed without losing or taking over something: `reason` says what, `fix` how."""

    def __init__(self, label: str, reason: str, fix: str):
        super().__init__(f"{label}: {reason} (fix: {fix})")
        self.label, self.reason, self.fix = label, reason, fix


@dataclass
class LocalTask:
    """Work on this machine that runs in the same graph as the CloudStack steps (it needs none of them):
    e.g. building the bootstrap bundle while the inception VM deploys. `run` returns a detail line."""

    key: str
    label: str
    run: Callable[[], str]
    needs: tuple[str, ...] = ()


@dataclass
class Assessment:
    """What a step finds, read-only: the basis of both `plan` and `up`."""

    step: Step
    live: dict[str, Any] | None
    action: str            # create | reuse | adopt | use | replace | refuse
    detail: str = ""
    ours: bool = True
    fix: str = ""          # for refuse: how to get past it


def immutable_changes(step: Step, record: Resource | None) -> list[str]:
    if record is None or not record.ready or not record.owned:
        return []
    want = step.spec()
    return [f"{k} changed from {record.attrs.get(k)!r} to {want.get(k)!r}"
            for k in step.immutable if k in record.attrs and record.attrs.get(k) != want.get(k)]


def assess(ctx: CloudContext, step: Step) -> Assessment:
    """Look the step's resource up and classify it; calls no mutating API."""
    step.check(ctx)
    record = ctx.state.get(step.key)
    adopting = record is not None and record.owned
    live = step.find(ctx, adopting)
    changes = immutable_changes(step, record)
    if changes:
        return Assessment(step, live, "refuse", "; ".join(changes) + ": it cannot change in place",
                          fix="restore the old value, or run `inception destroy` and `inception up`")
    if live is None:
        gone = " (recorded, but gone from CloudStack)" if record is not None and record.ready else ""
        return Assessment(step, None, "create", gone)
    owner = ctx.foreign_owner(live)
    if owner:
        return Assessment(step, live, "refuse", f"it exists and belongs to environment {owner!r}", ours=False,
                          fix="use another name in the config")
    ours = adopting or ctx.tags_of(live).get(ENV_TAG) == ctx.env
    if not ours and not step.reusable:
        return Assessment(step, live, "refuse", "one exists that this environment did not create", ours=False,
                          fix="remove it, or choose another environment name")
    problem = step.conflict(ctx, live)
    if problem:
        if ours:
            return Assessment(step, live, "replace", problem)
        return Assessment(step, live, "refuse", problem, ours=False, fix="change the config to match, or remove it")
    if not ours:
        return Assessment(step, live, "use", "exists already; used, never deleted", ours=False)
    return Assessment(step, live, "reuse" if record is not None and record.ready else "adopt")


def converge(ctx: CloudContext, step: Step) -> Assessment:
    """Make the step's resource exist as configured and record it (saved before returning)."""
    found = assess(ctx, step)
    if found.action == "refuse":
        raise StepRefused(step.label, found.detail, found.fix)
    live = found.live
    if found.action == "replace" and live is not None:
        kinds.delete(ctx.client, kinds.KINDS[step.kind], step.resource_id(live), {})
        live = None
    if live is None:
        ctx.state.begin(step.key, step.kind, step.name, **step.spec())
        try:
            live = step.create(ctx)
        except (OutcomeUnknownError, JobTimeoutError, CloudStackConnectionError):
            raise    # it may exist: the record stays `creating`, and the next run looks for it
        except CloudStackError as exc:   # refused, or its job failed (and was rolled back): nothing exists
            ctx.state.fail(step.key, str(exc)[:300])
            raise
        if step.tag_type:
            ctx.tag(step.tag_type, step.resource_id(live), step.key)
    elif found.ours and step.tag_type and ctx.tags_of(live).get(ENV_TAG) != ctx.env:
        ctx.tag(step.tag_type, step.resource_id(live), step.key)   # adopted after an interrupted run
    live = step.settle(ctx, live)
    ctx.resolve(step.key, live)
    ctx.state.record(step.key, step.kind, step.resource_id(live), step.name, owned=found.ours,
                     **step.attrs(ctx, live))
    return found


def run_graph(steps: list[Step], work: Callable[[Step], T], *, workers: int,
              on_done: Callable[[Step, T | None, BaseException | None, float], None] = lambda *a: None,
              on_interrupt: Callable[[int], None] = lambda running: None) -> dict[str, T]:
    """Run `work` for every step once its needs are done; `workers`=1 is strictly sequential (list order).

    After a failure no new step starts; running ones finish; the first error is raised. Ctrl-C is such a
    failure: `on_interrupt(running steps)` is told (to make long steps stop early), then KeyboardInterrupt is
    raised once they have finished, so nothing half-done goes unrecorded."""
    keys = {s.key for s in steps}
    pending = list(steps)
    done: dict[str, T] = {}
    running: dict[Future, tuple[Step, float]] = {}
    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="step") as pool:
        while pending or running:
            if error is None:
                for step in [s for s in pending if all(n in done or n not in keys for n in s.needs)]:
                    if len(running) >= max(1, workers):
                        break
                    pending.remove(step)
                    running[pool.submit(work, step)] = (step, time.monotonic())
            if not running:
                if error is None and pending:
                    raise RuntimeError("steps with unmet needs: " + ", ".join(s.key for s in pending))
                break
            try:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt as interrupt:
                if not isinstance(error, KeyboardInterrupt):
                    error = interrupt
                    on_interrupt(len(running))
                continue
            for future in finished:
                step, started = running.pop(future)
                exc = future.exception()
                on_done(step, None if exc else future.result(), exc, time.monotonic() - started)
                if exc is None:
                    done[step.key] = future.result()
                elif error is None:
                    error = exc
    if error is not None:
        raise error
    return done


def ordered(steps: list[Step]) -> list[Step]:
    """Steps in list order, each after its needs (the order a sequential run uses)."""
    keys = {s.key for s in steps}
    done: set[str] = set()
    out: list[Step] = []
    pending = list(steps)
    while pending:
        step = next((s for s in pending if all(n in done or n not in keys for n in s.needs)), None)
        if step is None:
            raise RuntimeError("circular step needs: " + ", ".join(s.key for s in pending))
        pending.remove(step)
        done.add(step.key)
        out.append(step)
    return out


def converge_retrying(ctx: CloudContext, step: Step, attempts: int = 3) -> Assessment:
    """converge, again after a failed job (the cloud rolled it back; a VM left in Error is replaced)."""
    for attempt in range(1, attempts + 1):
        try:
            return converge(ctx, step)
        except JobFailedError:
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")
