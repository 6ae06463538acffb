"""What every CloudStack-facing method shares: the client, zone lookup, and translation of client errors.

Imported only by methods that talk to CloudStack, so `info` and argument errors never load the HTTP stack.
"""
from __future__ import annotations

import atexit
import contextlib
import logging
import os
import tempfile
from functools import cached_property
from typing import Any, Callable, Iterator

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.errors import CloudStackError, JobFailedError, JobTimeoutError, OutcomeUnknownError
from cpi.config import CpiConfig
from cpi.networks import Zone
from cpi.protocol import BoshError, CloudError, Request

log = logging.getLogger("cpi")

# VM states in which a VM is as good as gone.
GONE_VM_STATES = ("Destroyed", "Expunging", "Expunged")
# Volume states in which a volume is as good as gone.
GONE_VOLUME_STATES = ("Destroy", "Expunging", "Expunged")


def translate(exc: Exception) -> BoshError:
    """A client error as the BOSH error the director understands (CloudError); timeouts name the operation."""
    if isinstance(exc, BoshError):
        return exc
    if isinstance(exc, JobTimeoutError):
        return CloudError(str(exc), ok_to_retry=True)
    if isinstance(exc, OutcomeUnknownError):
        return CloudError(f"{exc} (the outcome is unknown; check for a leftover resource)", ok_to_retry=True)
    if isinstance(exc, (JobFailedError, CloudStackError)):
        return CloudError(str(exc))
    return CloudError(f"{type(exc).__name__}: {exc}")


class Cloud:
    """Per-call state: configuration, the request, a lazily built client and memoised lookups."""

    def __init__(self, config: CpiConfig, request: Request) -> None:
        self.config = config
        self.request = request

    @cached_property
    def client(self) -> CloudStackClient:
        return CloudStackClient(
            self.config.endpoint,
            self.config.api_key,
            self.config.secret_access_key,
            verify=self._verify(),
            timeout=self.config.request_timeout,
            job_timeout=self.config.state_timeout,
        )

    def _verify(self) -> bool | str:
        if self.config.skip_verify_ssl:
            return False
        if not self.config.ca_cert:
            return True
        handle, path = tempfile.mkstemp(prefix="cpi-ca-", suffix=".pem")
        with os.fdopen(handle, "w") as out:
            out.write(self.config.ca_cert)
        atexit.register(_unlink_quietly, path)
        return path

    def run(self, command: str, operation: str, **params: Any) -> dict[str, Any]:
        """An async command with the configured timeout of its operation. A job that failed is tried once more:
        a failed job changed nothing, and transient failures (a busy host, a storage hiccup) are common."""
        for attempt in (1, 2):
            try:
                return self.client.run(command, timeout=self.config.timeout(operation), operation=operation, **params)
            except JobFailedError as exc:
                if attempt == 2:
                    raise
                log.warning("%s failed (%s); trying once more", command, exc)
        raise AssertionError("unreachable")

    # -- zones -------------------------------------------------------------------------------------------------
    @cached_property
    def _zones(self) -> list[dict[str, Any]]:
        return self.client.list("listZones")

    def zone(self, name: str | None = None) -> Zone:
        """The zone called `name`, else the default zone, else the only zone."""
        zones = self._zones
        wanted = name or self.config.default_zone
        if wanted is None:
            if len(zones) == 1:
                return Zone.from_api(zones[0])
            raise CloudError(
                "no zone given: set cloudstack.default_zone or cloud_properties.availability_zone "
                f"(zones: {names_of(zones)})"
            )
        for zone in zones:
            if zone.get("name") == wanted or zone.get("id") == wanted:
                return Zone.from_api(zone)
        raise CloudError(f"zone {wanted!r} not found; zones: {names_of(zones)}")

    def zone_by_id(self, zone_id: str) -> Zone:
        for zone in self._zones:
            if zone.get("id") == zone_id:
                return Zone.from_api(zone)
        raise CloudError(f"zone id {zone_id} not found")

    # -- lookups that treat "gone" as None ---------------------------------------------------------------------
    def vm(self, vm_id: str) -> dict[str, Any] | None:
        vm = self.client.get_by_id("listVirtualMachines", vm_id)
        if vm is None or vm.get("state") in GONE_VM_STATES:
            return None
        return vm

    def volume(self, volume_id: str) -> dict[str, Any] | None:
        volume = self.client.get_by_id("listVolumes", volume_id)
        if volume is None or volume.get("state") in GONE_VOLUME_STATES or volume.get("destroyed"):
            return None
        return volume

    def create(self, command: str, operation: str, key: str, find: Callable[[], dict[str, Any] | None],
               **params: Any) -> dict[str, Any]:
        """A creating command that converges when its outcome is unknown (`find` looks for what it made)."""
        return self.client.create_or_find(
            command, find=find, key=key, timeout=self.config.timeout(operation), operation=operation, **params
        )

    def create_settled(self, command: str, operation: str, key: str, find: Callable[[], dict[str, Any] | None], *,
                       again: str, leftover: str, **params: Any) -> dict[str, Any]:
        """`create` of something whose id the caller hands to the Director: a job that outlives the operation's
        timeout runs on (CloudStack cannot cancel it), so an error now would leave a resource the Director never
        hears of. Its job is waited for once more (the `again` operation's timeout) and what it made is the
        answer; a job that fails made nothing; one still running is reported with `leftover` to delete."""
        try:
            return self.create(command, operation, key, find, **params)
        except JobTimeoutError as timeout:
            log.info("%s: %s; waiting for its job before answering", command, timeout)
            try:
                result = self.client.wait_job(timeout.jobid or "", command=command, operation=operation,
                                              timeout=self.config.timeout(again))
            except JobTimeoutError:
                raise CloudError(f"{timeout}; its job still runs after a further wait: delete {leftover} once it "
                                 "has ended", ok_to_retry=False) from None
            return result[key]


@contextlib.contextmanager
def cloudstack_errors() -> Iterator[None]:
    """Turn client errors raised inside the block into BOSH errors."""
    try:
        yield
    except BoshError:
        raise
    except CloudStackError as exc:
        raise translate(exc) from exc


def names_of(items: list[dict[str, Any]]) -> str:
    names = sorted(str(i.get("name")) for i in items)
    return ", ".join(names) if names else "(none)"


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
