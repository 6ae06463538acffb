"""A scripted CloudStack API endpoint for deterministic client tests and the job-wait bench.

Real HTTP on 127.0.0.1 (port 0), answering scripted replies in CloudStack's envelopes and
recording every request (arrival time, method, form fields). Replies per command are consumed
in order; the last one repeats. A reply may also be a callable of the recorded request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

# Credentials the tests hand to clients of this server.
API_KEY = "AKtestapikey0123456789"
SECRET_KEY = "SKtestsecret/+=9876543210"


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON, str/bytes -> sent as is
    content_type: str = "application/json; charset=UTF-8"
    delay: float = 0.0  # seconds before answering
    drop: bool = False  # read the request, then close the connection without an answer


@dataclass
class Recorded:
    at: float  # time.monotonic() on arrival
    method: str
    form: dict[str, str]
    raw: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def command(self) -> str:
        return self.form.get("command", "")


Script = Reply | Callable[[Recorded], Reply]


def ok(command: str, inner: dict[str, Any]) -> Reply:
    return Reply(200, {f"{command.lower()}response": inner})


def api_error(command: str, errorcode: int, errortext: str, cserrorcode: int = 4350) -> Reply:
    return Reply(
        errorcode,
        {
            f"{command.lower()}response": {
                "uuidList": [],
                "errorcode": errorcode,
                "cserrorcode": cserrorcode,
                "errortext": errortext,
            }
        },
    )


def job_status(status: int, result: dict[str, Any] | None = None, resultcode: int = 0) -> Reply:
    inner: dict[str, Any] = {"jobid": "job-1", "jobstatus": status, "jobprocstatus": 0, "jobresultcode": resultcode}
    if result is not None:
        inner["jobresult"] = result
        inner["jobresulttype"] = "object"
    return ok("queryAsyncJobResult", inner)


class TimedJobs:
    """queryAsyncJobResult answers for jobs that finish ``duration`` seconds after they start."""

    def __init__(self, duration: float, result: dict[str, Any] | None = None) -> None:
        self.duration = duration
        self.result = result if result is not None else {"success": True}
        self.started: dict[str, float] = {}

    def start(self, command: str, **extra: Any) -> Callable[[Recorded], Reply]:
        """Replies for ``command`` that start a new job each (job-1, job-2, ...)."""

        def reply(_: Recorded) -> Reply:
            jobid = f"job-{len(self.started) + 1}"
            self.started[jobid] = time.monotonic()
            return ok(command, {"jobid": jobid, **extra})

        return reply

    def query(self, request: Recorded) -> Reply:
        jobid = request.form["jobid"]
        done = time.monotonic() - self.started[jobid] >= self.duration
        reply = job_status(1, self.result) if done else job_status(0)
        reply.body["queryasyncjobresultresponse"]["jobid"] = jobid
        return reply


def signature_ok(form: dict[str, str], secret: str) -> bool:
    """Check a request's signature as the management server does (ApiServer.verifyRequest):
    names sorted, values encoded like java.net.URLEncoder with %20 for spaces, lowercased,
    HMAC-SHA1, base64."""
    fields = sorted((k, v) for k, v in form.items() if k != "signature")
    text = "&".join(f"{k}={quote(v, safe='*').replace('~', '%7E')}" for k, v in fields).lower()
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), form.get("signature", ""))


class ScriptedCloudStack:
    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.requests: list[Recorded] = []
        self._script: dict[str, list[Script]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None  # clients hang up on purpose
        scheme = "http"
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.endpoint = f"{scheme}://127.0.0.1:{self._server.server_address[1]}/client/api"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> ScriptedCloudStack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, command: str, *replies: Script) -> ScriptedCloudStack:
        with self._lock:
            self._script.setdefault(command, []).extend(replies)
        return self

    def calls(self, command: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if command is None or r.command == command]

    def _answer(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            queue = self._script.get(request.command)
            if not queue:
                return api_error(
                    request.command, 432, "The given command does not exist or it is not available for user", 9999
                )
            entry = queue.pop(0) if len(queue) > 1 else queue[0]
        return entry(request) if callable(entry) else entry


def _handler_for(server: ScriptedCloudStack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # headers and body go out in two writes; without this, Nagle + delayed ACK add 40 ms
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            self._handle("POST", raw)

        def do_GET(self) -> None:
            self._handle("GET", urlsplit(self.path).query)

        def _handle(self, method: str, raw: str) -> None:
            request = Recorded(
                time.monotonic(), method, dict(parse_qsl(raw, keep_blank_values=True)), raw, dict(self.headers.items())
            )
            reply = server._answer(request)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                return
            body = reply.body
            payload = (
                json.dumps(body).encode()
                if isinstance(body, (dict, list))
                else (body.encode() if isinstance(body, str) else (body or b""))
            )
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                self.close_connection = True

    return Handler
