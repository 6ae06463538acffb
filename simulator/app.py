"""The simulated management server: authenticates, validates and dispatches API requests, logs every call."""
from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import parse_qsl

from . import commands, devices, metadata, uploads  # noqa: F401  (register the command handlers and routes)
from .context import Options, SimContext
from .errors import (API_LIMIT_EXCEED, INTERNAL_ERROR, UNAUTHORIZED, UNAUTHORIZED_TEXT,
                     UNSUPPORTED_ACTION_ERROR, ApiError, server_error)
from .faults import Fault
from .limits import ROOT_ADMIN
from .registry import COMMANDS, ROUTES, Ctx, HttpRequest, HttpResponse
from .signing import verify

log = logging.getLogger("simulator")
CREDENTIALS_FILE = "credentials.json"
READ_PREFIXES = ("list", "query", "get")


class Simulator(SimContext):
    """The management server's front door: credentials, the API pipeline, the call log, the extra routes."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.keys: dict[str, str] = {}
        self.generated_keys = False
        self._calls: deque[dict[str, Any]] = deque(maxlen=200_000)
        self._call_seq = 0
        self._calls_lock = threading.Lock()
        self._load_keys()

    def _load_keys(self) -> None:
        path = self.options.state_dir / CREDENTIALS_FILE if self.options.state_dir else None
        api_key, secret_key = self.options.api_key, self.options.secret_key
        if (api_key is None) != (secret_key is None):
            raise ValueError("give both --api-key and --secret-key, or neither")
        saved: dict[str, Any] = json.loads(path.read_text()) if path is not None and path.exists() else {}
        if api_key is None and saved:
            api_key, secret_key = saved["api_key"], saved["secret_key"]
        if api_key is None:
            api_key = secrets.token_urlsafe(64)
            secret_key = secrets.token_urlsafe(64)
            self.generated_keys = True
        # Seeded user accounts: keys of their own, kept across restarts.
        saved_accounts = saved.get("accounts") or {}
        accounts = {a["name"]: saved_accounts.get(a["name"]) or {"api_key": secrets.token_urlsafe(64),
                                                                 "secret_key": secrets.token_urlsafe(64)}
                    for a in self.store.all("account") if a.get("accounttype") != ROOT_ADMIN}
        if path is not None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump({"api_key": api_key, "secret_key": secret_key, "accounts": accounts}, fh)
            os.chmod(path, 0o600)
        self.keys = {api_key: secret_key}  # type: ignore[dict-item]
        self.key_accounts: dict[str, str] = {}
        for name, pair in accounts.items():
            self.keys[pair["api_key"]] = pair["secret_key"]
            self.key_accounts[pair["api_key"]] = name

    # --- the API ---------------------------------------------------------------------------------------------
    def handle_api(self, request: HttpRequest) -> tuple[HttpResponse, str | None]:
        """Answer one /client/api request. The second value asks the server to drop the connection
        ("before" answering or "after" executing), as the fault injector decided."""
        started = time.monotonic()
        params = [(k, v) for k, vs in request.query.items() for v in vs]
        if request.method == "POST" and request.body:
            ctype = request.headers.get("content-type", "")
            if ctype.startswith("application/x-www-form-urlencoded") or not ctype:
                params += parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        lowered: dict[str, str] = {}
        for k, v in params:
            lowered.setdefault(_param_key(k), v)
        name = lowered.get("command", "")
        cmd = self.spec.command(name) if name else None
        response_name = cmd.response_name if cmd else "errorresponse"
        drop: str | None = None
        status = 200
        try:
            if not name:
                raise server_error(UNAUTHORIZED, UNAUTHORIZED_TEXT)
            # ApiServer.verifyRequest refuses an unknown command before it looks at the signature.
            if cmd is None or cmd.name.lower() not in COMMANDS:
                raise server_error(UNSUPPORTED_ACTION_ERROR,
                                   "The given command does not exist or it is not available for user")
            caller = self.account(self.key_accounts.get(verify(params, self.keys)))
            fault = self.faults.draw(cmd.isasync)
            if fault is not None and fault.name == "drop_before":
                self._log_call(name, request.method, 0, started, {"errortext": "connection dropped (fault)"})
                return HttpResponse(0), "before"
            self._apply_fault(fault)
            typed = self.spec.validate(cmd, {k: v for k, v in lowered.items() if k not in _TRANSPORT})
            self.timing.pause("list" if cmd.name.startswith(READ_PREFIXES) else "api")
            ctx = Ctx(self, cmd, request.method, fault, caller)
            with self.store.lock:
                if cmd.name.startswith("list"):
                    self._check_list_ids(ctx, typed)
                body = COMMANDS[cmd.name.lower()](ctx, typed)
                if not cmd.name.startswith(READ_PREFIXES):
                    self.store.save()
            if fault is not None and fault.name == "drop_after":
                drop = "after"
        except ApiError as err:
            status, body = err.errorcode, err.body()
        except Exception:  # never a traceback on the wire: CloudStack answers 530
            log.exception("handler for %s crashed", name)
            status = INTERNAL_ERROR
            body = {"uuidList": [], "errorcode": INTERNAL_ERROR, "cserrorcode": 9999,
                    "errortext": "Internal error executing command, please contact your system administrator"}
        self._log_call(name or "(none)", request.method, status, started, body)
        payload = json.dumps({response_name: body}, separators=(",", ":")).encode()
        return HttpResponse(status, payload), drop

    def _check_list_ids(self, ctx: Ctx, typed: dict[str, Any]) -> None:
        """ParamProcessWorker turns every uuid parameter into a database id first: a list filtered by an id
        that never existed is refused with 431, while the id of a removed resource simply lists nothing."""
        for name, param in ctx.command.params.items():
            value = typed.get(name)
            if param.type == "uuid" and value is not None and value != "-1" and not self.store.known(value):
                raise ctx.invalid_id(name, value)

    def _apply_fault(self, fault: Fault | None) -> None:
        if fault is None:
            return
        if fault.name == "throttle_429":
            raise server_error(API_LIMIT_EXCEED, "The given user has reached his/her account api limit, please "
                                                 "retry after 1000 ms.")
        if fault.name == "http_530":
            raise server_error(INTERNAL_ERROR, "Internal error executing command, please contact your system "
                                               "administrator")
        if fault.name == "http_503":
            raise ApiError(503, "Service Temporarily Unavailable", 9999)
        if fault.name == "slow":
            time.sleep(fault.slow_seconds)

    def _log_call(self, command: str, method: str, status: int, started: float, body: dict) -> None:
        with self._calls_lock:
            self._call_seq += 1
            entry = {"seq": self._call_seq, "time": time.time(), "command": command, "method": method,
                     "status": status, "duration_ms": round((time.monotonic() - started) * 1000, 3)}
            if isinstance(body, dict) and "jobid" in body:
                entry["jobid"] = body["jobid"]
            if status >= 400 and isinstance(body, dict):
                entry["errortext"] = body.get("errortext")
            self._calls.append(entry)

    def calls(self, since: int = 0) -> list[dict[str, Any]]:
        with self._calls_lock:
            return [c for c in self._calls if c["seq"] > since]

    # --- other HTTP routes -----------------------------------------------------------------------------------
    def route(self, request: HttpRequest) -> HttpResponse | None:
        for method, prefix, handler in ROUTES:
            if request.method == method and request.path.startswith(prefix):
                return handler(self, request)
        return None

    def resources(self) -> dict[str, list[dict[str, Any]]]:
        """Every live resource by kind, with the simulator's internal facts (sizes, digests) unprefixed."""
        def view(value: Any) -> Any:
            if isinstance(value, dict):
                return {k.lstrip("_"): view(v) for k, v in value.items() if not k.startswith("__")}
            if isinstance(value, list):
                return [view(v) for v in value]
            return value
        with self.store.lock:
            return {kind: [view(o) for o in objs.values() if not o.get("_removed")]
                    for kind, objs in sorted(self.store.kinds.items()) if kind != "asyncjob"}

    def shutdown(self) -> None:
        with self.store.lock:
            self.jobs.finish_all_now()
            self.store.save()


def _param_key(name: str) -> str:
    """Parameter names are case-insensitive, but the keys inside a map value keep their case
    (`details[0].cpuNumber`), as CloudStack reads them with case-sensitive lookups."""
    base, bracket, rest = name.partition("[")
    return base.lower() + bracket + rest


# Request parameters that belong to the transport, not to the command.
_TRANSPORT = {"command", "apikey", "signature", "response", "signatureversion", "expires", "sessionkey", "_"}
