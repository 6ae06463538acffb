"""CloudStack API client of the CPI and the inception tool, built on ``cs``.

``cs`` does the request assembly and signing (including signature v3 expiry); this class adds
what the CPI needs on top: every call by POST, retries that never repeat a mutating command
whose outcome is unknown, 429 backoff, typed errors, adaptive async-job waiting and logging
without secrets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import requests
from cs import CloudStack
from cs.client import PAGE_SIZE, unwrap_response
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from .config import DEFAULT_JOB_TIMEOUT, DEFAULT_TIMEOUT, resolve_settings
from .errors import (
    INTERNAL_ERROR,
    LAST_API_ERROR,
    CloudStackConnectionError,
    CloudStackError,
    OutcomeUnknownError,
)
from .jobs import wait_for_job
from .policy import PollSchedule, is_read_only, throttle_hint
from .redact import loggable_params

log = logging.getLogger("cloudstack")

DEFAULT_RETRIES = 4
DEFAULT_RETRY_BACKOFF = 0.5
DEFAULT_POLL = PollSchedule()

# Longest wait honoured from a 429's "retry after N ms".
MAX_THROTTLE_WAIT = 30.0

Finder = Callable[[], "dict[str, Any] | None"]


class _Retryable(Exception):
    """Internal: this attempt failed in a way that may be retried (``error`` if not)."""

    def __init__(self, error: CloudStackError, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


class CloudStackClient(CloudStack):
    """A ``cs.CloudStack`` that always POSTs, retries safely and waits for jobs adaptively.

    ``client.someCommand(**params)`` (the ``cs`` style) goes through the same machinery as
    :meth:`call`, :meth:`list` (``fetch_list=True``) and :meth:`run` (``fetch_result=True``).
    """

    def __init__(
        self,
        endpoint: str,
        api_key: str,
        secret_key: str,
        *,
        verify: bool | str = True,
        timeout: float = DEFAULT_TIMEOUT,
        job_timeout: float = DEFAULT_JOB_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        retry_backoff: float = DEFAULT_RETRY_BACKOFF,
        poll: PollSchedule = DEFAULT_POLL,
        name: str | None = None,
    ) -> None:
        super().__init__(
            endpoint,
            key=api_key,
            secret=secret_key,
            method="post",
            verify=verify,
            dangerous_no_tls_verify=verify is False,
            name=name,
            retry=retries,
            retry_backoff=retry_backoff,
        )
        # cs keeps integral seconds only; the CPI wants sub-second precision.
        self.timeout = float(timeout)  # type: ignore[assignment]
        self.job_timeout = float(job_timeout)  # type: ignore[assignment]
        self.poll = poll

    @classmethod
    def from_settings(
        cls,
        *args: Any,
        retries: int = DEFAULT_RETRIES,
        retry_backoff: float = DEFAULT_RETRY_BACKOFF,
        poll: PollSchedule = DEFAULT_POLL,
        **kwargs: Any,
    ) -> CloudStackClient:
        """A client for ``resolve_settings(*args, **kwargs)`` (endpoint, api_key, secret_key, region; verify,
        ca_bundle, timeout, job_timeout): explicit values > ``CLOUDSTACK_*`` env > cloudstack.ini region.

        Raises ``CloudStackConfigError`` naming what is missing and where to set it.
        """
        settings = resolve_settings(*args, **kwargs)
        return cls(
            settings.endpoint,
            settings.api_key,
            settings.secret_key,
            verify=settings.verify,
            timeout=settings.timeout,
            job_timeout=settings.job_timeout,
            name=settings.region,
            retries=retries,
            retry_backoff=retry_backoff,
            poll=poll,
        )

    def __repr__(self) -> str:
        return f"<CloudStackClient {self.name or self.endpoint} verify={self.verify!r}>"

    # -- the API ---------------------------------------------------------------------------

    def call(self, command: str, **params: Any) -> dict[str, Any]:
        """Send one command; return the unwrapped response body (``{"jobid": ...}`` for async)."""
        return self._execute(command, params)

    def list(self, command: str, **params: Any) -> list[dict[str, Any]]:
        """All items of a ``list*`` command, page by page (``pagesize`` 500)."""
        if "page" in params:
            return _items(self._execute(command, params))
        pagesize = int(params.pop("pagesize", PAGE_SIZE))
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._execute(command, {**params, "page": page, "pagesize": pagesize})
            batch = _items(body)
            items.extend(batch)
            count = body.get("count")
            if len(batch) < pagesize if count is None else (not batch or len(items) >= int(count)):
                return items
            page += 1

    def list_found(self, command: str, **filters: Any) -> list[dict[str, Any]]:
        """``list``, but empty where CloudStack answers that a filtered-on id does not exist (a 431)."""
        try:
            return self.list(command, **filters)
        except CloudStackError as exc:
            if exc.is_not_found:
                return []
            raise

    def find_one(self, command: str, **filters: Any) -> dict[str, Any] | None:
        """The single item of ``command`` matching ``filters``, or None if there is none.

        CloudStack matches ``name`` by substring and answers an unknown ``id`` with a 431 "not
        found" error; both are normalised here. More than one match is an error.
        """
        items = self.list_found(command, **filters)
        for key in ("id", "name"):
            if key in filters:
                items = [item for item in items if item.get(key) == filters[key]]
        if len(items) > 1:
            raise CloudStackError(
                f"{command} matched {len(items)} items for {loggable_params(filters)}, expected one",
                command=command,
            )
        return items[0] if items else None

    def get_by_id(self, command: str, id: str) -> dict[str, Any] | None:  # noqa: A002 - CloudStack's name
        return self.find_one(command, id=id)

    def run(
        self, command: str, *, timeout: float | None = None, operation: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """Start an async command and wait for it; return the job result object.

        E.g. ``{"virtualmachine": {...}}`` or ``{"success": True}``. A command that answers
        synchronously (no ``jobid``) returns its body, which has the same shape.
        Raises ``JobFailedError`` / ``JobTimeoutError`` (naming ``operation``).
        """
        started = self._execute(command, params)
        if "jobid" not in started:
            return started
        return self.wait_job(started["jobid"], command=command, operation=operation, timeout=timeout)

    def wait_job(
        self, jobid: str, *, command: str = "async job", operation: str | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Wait for an already started job (e.g. after a JobTimeoutError, or one found running)."""

        def query(job: str, remaining: float) -> dict[str, Any]:
            return self._execute("queryAsyncJobResult", {"jobid": job}, http_timeout=min(self.timeout, remaining))

        return wait_for_job(
            query,
            jobid,
            command=command,
            operation=operation or command,
            timeout=timeout or self.job_timeout,
            schedule=self.poll,
        )

    def create_or_find(
        self,
        command: str,
        *,
        find: Finder,
        key: str,
        rounds: int = 3,
        timeout: float | None = None,
        operation: str | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Create a resource exactly once even when a call's outcome is unknown.

        Runs ``command`` (sync or async) and returns ``result[key]`` (e.g. ``key="volume"``).
        On ``OutcomeUnknownError`` it first calls ``find()`` (look the resource up by its
        unique name or tag; None = it does not exist) and only re-sends the command when the
        lookup proves the resource is absent. A resource found with a job still running is
        waited for. A lookup that fails re-raises the original error: nothing is re-sent
        without proof.
        """
        for _ in range(rounds - 1):
            try:
                return self.run(command, timeout=timeout, operation=operation, **params)[key]
            except OutcomeUnknownError as unknown:
                found = self._look_up(command, find, unknown)
            if found is not None:
                log.debug("%s: outcome unknown, resource found; not sending again", command)
                if found.get("jobid") and found.get("jobstatus", 0) == 0:
                    result = self.wait_job(found["jobid"], command=command, operation=operation, timeout=timeout)
                    return result.get(key, found)
                return found
            log.debug("%s: outcome unknown and resource absent; sending again", command)
        return self.run(command, timeout=timeout, operation=operation, **params)[key]

    @staticmethod
    def _look_up(command: str, find: Finder, unknown: OutcomeUnknownError) -> dict[str, Any] | None:
        """``find()``, or the original unknown-outcome error when the lookup itself fails."""
        try:
            return find()
        except CloudStackError as lookup_error:
            log.debug("%s: lookup after unknown outcome failed: %s", command, lookup_error)
            raise unknown from None

    # -- cs entry point: client.listZones(...) etc. --------------------------------------------

    def _request(
        self,
        command: str,
        json: bool = True,
        opcode_name: str = "command",  # type: ignore[override]
        fetch_list: bool = False,
        headers: Any = None,
        **params: Any,
    ) -> Any:
        fetch_result = params.pop("fetch_result", self.fetch_result)
        if not json or opcode_name != "command" or headers:
            raise TypeError("CloudStackClient supports JSON API commands only")
        if fetch_list:
            return self.list(command, **params)
        if fetch_result:
            return self.run(command, **params)
        return self.call(command, **params)

    # -- transport -------------------------------------------------------------------------

    def _execute(self, command: str, params: dict[str, Any], *, http_timeout: float | None = None) -> dict[str, Any]:
        """One command with retries: any command after 429 or a connection never made; read-only
        commands also after connection loss, timeouts and 5xx. Mutating commands whose outcome
        is unknown raise OutcomeUnknownError instead of being repeated."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                body = self._attempt(command, params, http_timeout or self.timeout, attempt)
            except _Retryable as retryable:
                if attempt > self.retry:
                    raise retryable.error from None
                delay = max(self._retry_delay(attempt), min(retryable.wait or 0.0, MAX_THROTTLE_WAIT))
                log.debug(
                    "retrying %s in %.2fs after: %s (retry %d of %d)",
                    command,
                    delay,
                    retryable.error,
                    attempt,
                    self.retry,
                )
                time.sleep(delay)
                continue
            if attempt > 1:
                log.debug(
                    "%s succeeded after %d retries, %.3fs in all", command, attempt - 1, time.monotonic() - started
                )
            return body

    def _attempt(self, command: str, params: dict[str, Any], timeout: float, attempt: int) -> dict[str, Any]:
        """Send once; return the body, raise the final error, or raise _Retryable."""
        read_only = is_read_only(command)
        shown = loggable_params(params)
        t0 = time.monotonic()
        try:
            response = self._post(command, params, timeout)
        except requests.exceptions.SSLError as exc:
            raise CloudStackConnectionError(
                f"{command}: TLS connection to {self.endpoint} failed ({_reason(exc)}); "
                "if the server uses a private CA, pass its CA bundle (ca_bundle / CLOUDSTACK_VERIFY)",
                command=command,
            ) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.debug(
                "%s %s: %s after %.3fs (attempt %d)", command, shown, _reason(exc), time.monotonic() - t0, attempt
            )
            if not (read_only or _never_sent(exc)):
                raise OutcomeUnknownError(
                    f"outcome of {command} is unknown: {_reason(exc)} after the request was sent; "
                    "it was not repeated (look the resource up before sending it again)",
                    command=command,
                ) from None
            raise _Retryable(
                CloudStackConnectionError(
                    f"{command}: cannot reach {self.endpoint}: {_reason(exc)} "
                    f"(after {attempt} attempt{'s' if attempt > 1 else ''})",
                    command=command,
                )
            ) from None
        status = response.status_code
        log.debug("%s %s: HTTP %d in %.3fs (attempt %d)", command, shown, status, time.monotonic() - t0, attempt)
        if status == 200:
            return self._body(command, response)
        error = self._api_error(command, response)
        if status == 429:
            raise _Retryable(error, wait=throttle_hint(error.errortext))
        if status < 500 or _definite_refusal(error):
            raise error
        if read_only:
            raise _Retryable(error)
        raise OutcomeUnknownError(
            f"outcome of {command} is unknown: {error}; it was not repeated "
            "(look the resource up before sending it again)",
            command=command,
            errorcode=error.errorcode,
            cserrorcode=error.cserrorcode,
            errortext=error.errortext,
        )

    def _post(self, command: str, params: dict[str, Any], timeout: float) -> requests.Response:
        """Sign (cs) and POST one request; a fresh signature v3 expiry on every attempt."""
        kind, prepared = self._prepare_request(command, **params)
        return self._send(kind, prepared, self.headers, timeout)

    def _body(self, command: str, response: requests.Response) -> dict[str, Any]:
        data = _json(response)
        if data is None:
            raise CloudStackError(
                f"{command}: {self.endpoint} did not answer with CloudStack JSON "
                f"(HTTP {response.status_code}, {response.headers.get('Content-Type', 'no content type')!r}); "
                "is the endpoint URL right (it usually ends in /client/api)?",
                command=command,
            )
        try:
            body = unwrap_response(data, None)
        except Exception:
            raise CloudStackError(f"{command}: unexpected response shape from CloudStack", command=command) from None
        return body if isinstance(body, dict) else {}

    def _api_error(self, command: str, response: requests.Response) -> CloudStackError:
        """The typed error for a non-200 answer, from CloudStack's error envelope if there is one."""
        status = response.status_code
        envelope = _envelope(_json(response))
        if envelope is None:
            return CloudStackError(
                f"{command}: HTTP {status} {response.reason} from {self.endpoint} (not a CloudStack answer)",
                command=command,
                errorcode=status,
            )
        errorcode = _int(envelope.get("errorcode")) or status
        errortext = str(envelope.get("errortext", ""))
        hint = " (check the API key and secret key)" if errorcode == 401 else ""
        return CloudStackError(
            f"{command} failed: {errortext} [errorcode {errorcode}, cserrorcode {envelope.get('cserrorcode')}]{hint}",
            command=command,
            errorcode=errorcode,
            cserrorcode=_int(envelope.get("cserrorcode")),
            errortext=errortext,
        )


def _items(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The list in a list response: its single key besides ``count`` (none when empty)."""
    keys = [key for key in body if key != "count"]
    if len(keys) != 1 or not isinstance(body[keys[0]], list):
        return []
    return body[keys[0]]


def _json(response: requests.Response) -> Any:
    ctype = response.headers.get("Content-Type", "")
    if not ctype.startswith(("application/json", "text/javascript")):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _envelope(data: Any) -> dict[str, Any] | None:
    """The ``{"errorcode", "errortext", ...}`` object of a CloudStack error answer, if it is one."""
    if not isinstance(data, dict) or len(data) != 1:
        return None
    inner = next(iter(data.values()))
    if isinstance(inner, dict) and "errorcode" in inner and "errortext" in inner:
        return inner
    return None


def _definite_refusal(error: CloudStackError) -> bool:
    """CloudStack's specific 5xx codes (531 account error ... 537 network rule conflict, e.g. 533
    insufficient capacity, 536 resource in use) mean the command was refused, so its outcome is
    known. The catch-all 530 and any other 5xx (proxies, 503) leave it unknown."""
    return error.errortext is not None and INTERNAL_ERROR < (error.errorcode or 0) <= LAST_API_ERROR


def _never_sent(exc: Exception) -> bool:
    """True when the connection could not even be made, so the server saw nothing."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, ConnectTimeoutError)


def _reason(exc: Exception) -> str:
    """A short cause without the URL (which would name nothing secret, but is noise)."""
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "read timed out"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timed out"
    text = str(reason.args[-1] if getattr(reason, "args", None) else reason)
    return f"{type(exc).__name__}: {text}"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
