"""The shapes API commands share, declared once: a list command (filters, keyword, tags, paging), the async job
of a create command and the async job that removes a resource.

A new list command is one declaration:

    list_command("listWidgets", ListShape(kind="widget", equal={"zoneid": "zoneid"}, text={"state": "state"},
                                          view=lambda ctx, widget, p: widget_view(ctx, widget)))

Every list applies the common filters (`id`, `ids`, `name`, `zoneid`, `tags`, removed resources hidden: see
`registry.filter_common`), then the shape's own, then pages the answer with `Ctx.listing`. A filter only acts when
its parameter was given (and the command's spec declares it: undeclared parameters never reach a handler).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .registry import Ctx, command, filter_common, remove_tags_of

Item = dict[str, Any]
View = Callable[[Ctx, Item, dict[str, Any]], Item]
Narrow = Callable[[Ctx, list[Item], dict[str, Any]], list[Item]]


@dataclass(frozen=True)
class ListShape:
    """What one list command lists and how its parameters filter it.

    kind: the store kind listed; key: the answer's list key (default: kind).
    equal: parameter -> field, kept when equal. text: the same, compared as case-insensitive text.
    flags: parameter -> field, kept when the field's truth equals the boolean parameter.
    keyword: the fields `keyword` searches (case-insensitive substring of any); empty: `keyword` is ignored, as
    some CloudStack searches ignore it. name_like: `name` matches a substring (listVirtualMachines).
    nothing_when: parameters that, when true, leave nothing to list (the simulator has no VPCs, for one).
    before: runs first (makes implicit resources visible). narrow: the command's own filters, last.
    view: how an item looks in the answer (default: its public fields).
    extra: items listed besides the stored ones (rows the simulator does not store: free public addresses).
    """
    kind: str
    key: str | None = None
    equal: Mapping[str, str] = field(default_factory=dict)
    text: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, str] = field(default_factory=dict)
    keyword: tuple[str, ...] = ("name",)
    name_like: bool = False
    nothing_when: tuple[str, ...] = ()
    before: Callable[[Ctx], None] | None = None
    narrow: Narrow | None = None
    view: View | None = None
    extra: Callable[[Ctx, dict[str, Any]], list[Item]] | None = None

    def _candidates(self, ctx: Ctx, p: dict[str, Any]) -> list[Item]:
        stored = ctx.store.all(self.kind)
        return stored + self.extra(ctx, p) if self.extra is not None else stored

    def select(self, ctx: Ctx, p: dict[str, Any]) -> list[Item]:
        if any(p.get(name) for name in self.nothing_when):
            return []
        items = filter_common(ctx, self._candidates(ctx, p), p, name_like=self.name_like, keyword=self.keyword)
        for param, name in self.equal.items():
            if param in p:
                items = [i for i in items if i.get(name) == p[param]]
        for param, name in self.text.items():
            if param in p:
                wanted = str(p[param]).lower()
                items = [i for i in items if str(i.get(name, "")).lower() == wanted]
        for param, name in self.flags.items():
            if param in p:
                items = [i for i in items if bool(i.get(name)) == p[param]]
        return self.narrow(ctx, items, p) if self.narrow is not None else items

    def answer(self, ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
        if self.before is not None:
            self.before(ctx)
        items = self.select(ctx, p)
        if self.view is not None:
            items = [self.view(ctx, item, p) for item in items]
        return ctx.listing(self.key or self.kind, items, p)


def same(*names: str) -> dict[str, str]:
    """Filters whose parameter and field share a name."""
    return {name: name for name in names}


def list_command(name: str, shape: ListShape) -> None:
    """Register a list command answered from its shape."""
    command(name)(shape.answer)


def removal_job(ctx: Ctx, kind: str, obj: Item, *, instance_type: str, operation: str = "job",
                before: Callable[[], None] | None = None, remove: Callable[[], None] | None = None) -> dict[str, Any]:
    """The async delete shape: a job that runs `before` (CloudStack's checks, failing the job as CloudStack does,
    and releasing what goes with the resource), then removes the resource with its tags (or runs `remove`),
    answering `{"success": true}`."""
    def work() -> None:
        if before is not None:
            before()
        if remove is not None:
            remove()
        else:
            ctx.store.remove(kind, obj["id"])
            remove_tags_of(ctx, obj["id"])
        return None
    return ctx.job(result_key=None, work=work, operation=operation, instance_type=instance_type,
                   instance_id=obj["id"])


def creation_job(ctx: Ctx, kind: str, obj: Item, *, result_key: str, instance_type: str, operation: str,
                 work: Callable[[], Item] | None = None, becomes: str | None = None,
                 view: Callable[[Ctx, Item], Item] | None = None,
                 rollback: Callable[[Exception], None] | None = None,
                 vm_queue: str | None = None) -> dict[str, Any]:
    """The async create shape (BaseAsyncCreateCmd): the record exists from the call on and its id is answered with
    the job id; the job finishes it (`work` returns its view, or the record's state `becomes` the given one and the
    job answers its `view`); a failed job removes it with its tags (or runs `rollback`). `vm_queue`: the VM whose
    work queue the job waits in (see `Ctx.job`)."""
    if work is None:
        def work() -> Item:
            obj["state"] = becomes
            return view(ctx, obj)

    def undo(err: Exception) -> None:
        if rollback is not None:
            rollback(err)
        else:
            ctx.store.remove(kind, obj["id"])
            remove_tags_of(ctx, obj["id"])
    return ctx.job(result_key=result_key, work=work, operation=operation, instance_type=instance_type,
                   instance_id=obj["id"], rollback=undo, create_id=obj["id"], vm_queue=vm_queue)
