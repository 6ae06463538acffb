"""What every step needs: the config, the state, a CloudStack client per thread, the zone, tags and lookups."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.errors import CloudStackError
from inception.config.loader import ConfigError, Problem, ProjectConfig
from inception.state import State

ENV_TAG = "inception-environment"   # value: the environment name; cleanup-leftovers lists by it
KEY_TAG = "inception-resource"      # value: the resource's state key; lets a step find exactly its twin


@dataclass
class Target:
    """Where the CloudStack API is: a real cloud, a simulator someone runs, or the one we embed."""

    kind: str  # "cloudstack" | "simulator" | "embedded"
    endpoint: str
    api_key: str
    secret_key: str = field(repr=False)
    verify: bool | str = True

    @property
    def simulated(self) -> bool:
        """Simulated VMs have no operating system: nothing can SSH into them."""
        return self.kind != "cloudstack"

    def client(self, **options: Any) -> CloudStackClient:
        return CloudStackClient(self.endpoint, self.api_key, self.secret_key, verify=self.verify, **options)


class CloudContext:
    """Shared by all steps of one run; the client is per thread (steps run concurrently)."""

    def __init__(self, config: ProjectConfig, state: State, target: Target):
        self.config = config
        self.state = state
        self.target = target
        self.env = config.name
        self._local = threading.local()
        self._cache_lock = threading.Lock()
        self._cache: dict[tuple, Any] = {}
        self._resolved: dict[str, dict[str, Any] | None] = {}
        # Set once a step of the run failed: a step waiting for another's side effect stops waiting.
        self.stopping = threading.Event()

    # -- live objects of the steps, as they complete (or, in a plan, as they are found) ---------------

    def resolve(self, key: str, live: dict[str, Any] | None) -> None:
        with self._cache_lock:
            self._resolved[key] = live

    def live(self, key: str) -> dict[str, Any] | None:
        """The live object of step `key`; before that step ran, a stub {id, attrs...} from the state record."""
        with self._cache_lock:
            if key in self._resolved:
                return self._resolved[key]
        record = self.state.get(key)
        return {**record.attrs, "id": record.id} if record and record.id else None

    @property
    def client(self) -> CloudStackClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.target.client()
        return client

    @cached_property
    def zone(self) -> dict[str, Any]:
        name = self.config.cloudstack["zone"]
        zones = [z for z in self.client.list("listZones", name=name) if z.get("name") == name]
        if not zones:
            names = ", ".join(sorted(z["name"] for z in self.client.list("listZones"))) or "none"
            raise ConfigError(self.config.source, [Problem("cloudstack.zone", f"zone {name!r} does not exist",
                                                           f"use one of: {names}")])
        return zones[0]

    @property
    def zone_id(self) -> str:
        return self.zone["id"]

    # -- tags -------------------------------------------------------------------------------------

    def tag(self, resourcetype: str, resource_id: str, key: str) -> None:
        """Mark a resource as this environment's (`key` = its state key). Both tags go in one job, so a
        resource has both or neither; a lost answer is settled by looking the tags up."""
        try:
            self.client.run("createTags", resourceids=resource_id, resourcetype=resourcetype,
                            tags=[{"key": ENV_TAG, "value": self.env}, {"key": KEY_TAG, "value": key}],
                            operation=f"tag {resourcetype} {resource_id}")
        except CloudStackError:
            if not self.client.list("listTags", resourceid=resource_id, key=ENV_TAG, value=self.env):
                raise

    def list_tagged(self, command: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Resources tagged with this environment and `key`. CloudStack ORs several `tags` filters (a match of
        any pair), so the API is asked for the `key` tag and the environment's is checked here."""
        found = self.client.list(command, tags=[{"key": KEY_TAG, "value": key}], **params)
        return [item for item in found if self.tags_of(item).get(ENV_TAG) == self.env]

    @staticmethod
    def tags_of(item: dict[str, Any]) -> dict[str, str]:
        return {t.get("key"): t.get("value") for t in item.get("tags") or []}

    def foreign_owner(self, item: dict[str, Any]) -> str | None:
        """The other environment a resource is tagged for, if any."""
        owner = self.tags_of(item).get(ENV_TAG)
        return owner if owner and owner != self.env else None

    # -- cached read-only lookups -------------------------------------------------------------------

    def cached(self, key: tuple, compute: Any) -> Any:
        with self._cache_lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            self._cache[key] = value
        return value

    def by_name(self, command: str, name: str, what: str, config_key: str, **params: Any) -> dict[str, Any]:
        """The single item of a list command named exactly `name`; a ConfigError naming `config_key` if none."""
        def compute() -> dict[str, Any]:
            items = [i for i in self.client.list(command, **params) if i.get("name") == name]
            if not items:
                known = sorted({i.get("name", "?") for i in self.client.list(command, **params)})
                raise ConfigError(self.config.source, [Problem(config_key, f"no {what} named {name!r}",
                                                               "use one of: " + (", ".join(known) or "none"))])
            return items[0]
        return self.cached((command, name, tuple(sorted(params.items()))), compute)
