"""Where API command handlers and extra HTTP routes register, and the context a handler works with.

A command handler is `def handler(ctx: Ctx, p: dict) -> dict`: `p` holds the validated, typed parameters
(lower-cased names; maps as lists of dicts); the returned dict is the body under `<command>response`.
Handlers run under the store lock, so they may read and change resources freely.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from .errors import PARAM_ERROR, ApiError, internal, param_error, server_error
from .identity import owner_fields
from .jobs import Begin, Rollback, Work
from .limits import is_root_admin

if TYPE_CHECKING:
    from .context import SimContext
    from .faults import Fault
    from .spec import Command

Handler = Callable[["Ctx", dict[str, Any]], dict[str, Any]]
COMMANDS: dict[str, Handler] = {}


@dataclass
class HttpRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]          # lower-cased names
    body: bytes
    client_ip: str
    stream: BinaryIO | None = None   # the unread body, for routes registered with stream=True


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


RouteHandler = Callable[["SimContext", HttpRequest], HttpResponse]
ROUTES: list[tuple[str, str, RouteHandler]] = []
STREAMING: set[tuple[str, str]] = set()   # (method, prefix) of routes that read the body themselves


def command(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more API commands (names as in listApis)."""
    def register(fn: Handler) -> Handler:
        for name in names:
            COMMANDS[name.lower()] = fn
        return fn
    return register


def route(method: str, prefix: str, *, stream: bool = False) -> Callable[[RouteHandler], RouteHandler]:
    """Register a handler for plain HTTP requests whose path starts with `prefix` (metadata, uploads...).
    With stream=True the body is not read into memory: the handler reads `request.stream` itself."""
    def register(fn: RouteHandler) -> RouteHandler:
        ROUTES.append((method.upper(), prefix, fn))
        if stream:
            STREAMING.add((method.upper(), prefix))
        return fn
    return register


def public(value: Any) -> Any:
    """The API view of a stored object: internal ("_") keys and nulls dropped. CloudStack's Gson omits nulls but
    keeps empty lists and strings (`"tags":[]`, `"cidrlist":""` in real answers)."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not k.startswith("_") and v is not None}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


@dataclass
class Ctx:
    sim: "SimContext"
    command: "Command"
    http_method: str
    fault: "Fault | None" = None
    caller: dict[str, Any] | None = None     # the calling account (None: the first, the root admin)

    @property
    def account(self) -> dict[str, Any]:
        return self.caller if self.caller is not None else self.sim.account()

    @property
    def is_admin(self) -> bool:
        return is_root_admin(self.account)

    @property
    def store(self):
        return self.sim.store

    # --- lookups ---------------------------------------------------------------------------------------------
    def lookup(self, kind: str, p: dict[str, Any], name: str, *, required: bool = True) -> dict[str, Any] | None:
        """The resource a uuid parameter names, or CloudStack's 431 for an id that does not exist."""
        value = p.get(name)
        if value is None:
            if required:
                raise server_error(PARAM_ERROR, f"Unable to execute API command {self.command.short_name} due to "
                                                f"missing parameter {name}")
            return None
        obj = self.store.get(kind, value)
        if obj is None or obj.get("_removed"):
            raise self.invalid_id(name, value)
        return obj

    def invalid_id(self, name: str, value: str) -> ApiError:
        """ParamProcessWorker wraps the InvalidParameterValueException in a ServerApiException (cserrorcode 9999)."""
        return server_error(PARAM_ERROR, f"Unable to execute API command {self.command.short_name} due to invalid "
                                         f"value. Invalid parameter {name} value={value} due to incorrect long value "
                                         "format, or entity does not exist or due to incorrect parameter annotation "
                                         "for the field in api cmd class.")

    # --- answers ---------------------------------------------------------------------------------------------
    def listing(self, key: str, items: Iterable[dict[str, Any]], p: dict[str, Any]) -> dict[str, Any]:
        """A list answer: `count` and the items, one page of them when asked; `{}` when there is nothing,
        `{"count": N}` for a page past the end."""
        items = list(items)
        count = len(items)
        page, pagesize = p.get("page"), p.get("pagesize")
        if page is not None or pagesize is not None:
            if page is None or pagesize is None:
                raise server_error(PARAM_ERROR, "\"page\" parameter is required when \"pagesize\" is specified"
                                   if page is None else "\"pagesize\" parameter is required when \"page\" is specified")
            if pagesize > self.sim.max_page_size or pagesize < 1:
                raise param_error(f"Page size can't exceed max allowed page size value: {self.sim.max_page_size}")
            start = (max(page, 1) - 1) * pagesize
            items = items[start:start + pagesize]
        if count == 0:
            return {}
        if not items:   # a page past the end: ApiResponseSerializer writes the count and no list key
            return {"count": count}
        return {"count": count, key: [public(i) for i in items]}

    def job(self, *, result_key: str | None, work: Work, operation: str, instance_type: str | None = None,
            instance_id: str | None = None, rollback: Rollback | None = None,
            create_id: str | None = None, vm_queue: str | None = None,
            on_start: Begin | None = None) -> dict[str, Any]:
        """Queue the async part of a command; answers {jobid} (and the new object's id for create commands).
        A job that is VM work in CloudStack names the VM in `vm_queue`: it waits for that VM's earlier work
        (see simulator/jobs.py); `on_start` runs when its turn comes."""
        fail_with = None
        if self.fault is not None and self.fault.name == "job_failure":
            fail_with = internal(f"Job failed due to exception: simulated failure of {self.command.name}")
        job = self.sim.jobs.submit(command=self.command.name, result_key=result_key, work=work, operation=operation,
                                   instance_type=instance_type, instance_id=instance_id, rollback=rollback,
                                   fail_with=fail_with, account=self.account, vm_queue=vm_queue,
                                   on_start=on_start)
        answer = {"jobid": job["jobid"]}
        if create_id is not None:
            answer["id"] = create_id
        return answer

    def owner(self) -> dict[str, Any]:
        """account/domain fields every owned resource carries: the caller's."""
        return owner_fields(self.account)

    def visible(self, obj: dict[str, Any], p: dict[str, Any]) -> bool:
        """Whether a list shows the resource to the caller (AccountManagerImpl.buildACLSearchParameters): its own
        resources; every account's for a root admin asking `listall=true`; what no account owns (zones,
        offerings, public templates, a zone's shared network) to everyone."""
        owner = obj.get("_accountid")
        return owner is None or owner == self.account["id"] or (self.is_admin and bool(p.get("listall")))

    def own(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The caller's among `items` (lookups by name are per account: key pairs, security groups, networks)."""
        return [i for i in items if i.get("_accountid") in (None, self.account["id"])]

    def mine(self, kind: str, **equals: Any) -> dict[str, Any] | None:
        """The caller's first resource of a kind with these fields."""
        return next(iter(self.own(self.store.find(kind, **equals))), None)

    # --- tags ------------------------------------------------------------------------------------------------
    def tags_of(self, resource_id: str) -> list[dict[str, Any]]:
        return [tag_view(t) for t in self.store.find("tag", resourceid=resource_id)]

    def match_tags(self, resource_id: str, wanted: list[dict[str, str]] | None) -> bool:
        """The `tags` filter of list commands: CloudStack's search joins resource_tags on
        (key0 = ? AND value0 = ?) OR (key1 = ? AND value1 = ?) ..., so ANY one pair matches."""
        if not wanted:
            return True
        have = {(t["key"], t["value"]) for t in self.store.find("tag", resourceid=resource_id)}
        return any((w.get("key"), w.get("value")) in have for w in wanted)


def tag_view(tag: dict[str, Any]) -> dict[str, Any]:
    """Tags have no id of their own in API answers."""
    return public({k: v for k, v in tag.items() if k != "id"})


def remove_tags_of(ctx: Ctx, resource_id: str) -> None:
    """CloudStack drops a resource's tags when the resource goes away."""
    for tag in ctx.store.find("tag", resourceid=resource_id):
        ctx.store.remove("tag", tag["id"])


def filter_common(ctx: Ctx, items: Iterable[dict[str, Any]], p: dict[str, Any], *, name_like: bool = False,
                  keyword: tuple[str, ...] = ("name",)) -> list[dict[str, Any]]:
    """The filters every list command shares: id, ids, name (exact or substring), keyword (a case-insensitive
    substring of any of the `keyword` fields; none: ignored), zoneid, tags."""
    for w in p.get("tags") or []:   # BaseListTaggedResourcesCmd.getTags
        if w.get("value") is None:
            raise param_error(f"No value is passed in for key {w.get('key')}")
    out = []
    for obj in items:
        if obj.get("_removed") or not ctx.visible(obj, p):
            continue
        if "id" in p and obj.get("id") != p["id"]:
            continue
        if p.get("ids") and obj.get("id") not in p["ids"]:
            continue
        if "name" in p:
            name = obj.get("name") or ""
            if (p["name"].lower() not in name.lower()) if name_like else (name != p["name"]):
                continue
        if keyword and "keyword" in p and not any(p["keyword"].lower() in str(obj.get(f) or "").lower()
                                                  for f in keyword):
            continue
        if "zoneid" in p and "zoneid" in obj and obj["zoneid"] != p["zoneid"]:
            continue
        if not ctx.match_tags(obj.get("id", ""), p.get("tags")):
            continue
        out.append(obj)
    return out
