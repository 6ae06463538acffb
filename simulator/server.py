"""The HTTP face of the simulator: /client/api, /_sim/resources, /_sim/calls and registered routes."""
from __future__ import annotations

import json
import logging
import re
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .app import Simulator
from .registry import STREAMING, HttpRequest, HttpResponse

log = logging.getLogger("simulator.http")
_QUERY = re.compile(r"\?[^\s'\"]*")
API_PATH = "/client/api"
MAX_BODY = 64 * 1024 * 1024 * 1024  # uploads can be big; bodies are streamed by the routes that take them


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # header and body go out in two writes: do not wait for delayed ACKs
    server: "SimulatorServer"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        # The request line of a GET carries apiKey and signature in its query string: log the path only.
        args = tuple(_without_query(a) if isinstance(a, str) else a for a in args)
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        sim = self.server.sim
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(HttpResponse(413, b"request too large", "text/plain"))
            return
        streaming = any(method == m and parts.path.startswith(prefix) for m, prefix in STREAMING)
        body = self.rfile.read(length) if length and not streaming else b""
        request = HttpRequest(method, parts.path, parse_qs(parts.query, keep_blank_values=True),
                              {k.lower(): v for k, v in self.headers.items()}, body, self.client_address[0],
                              self.rfile if streaming else None)
        if parts.path == API_PATH:
            response, drop = sim.handle_api(request)
            if drop is not None:
                self._drop()
                return
        elif parts.path == "/_sim/resources" and method == "GET":
            response = _json(sim.resources())
        elif parts.path == "/_sim/calls" and method == "GET":
            since = int(request.query.get("since", ["0"])[0])
            response = _json(sim.calls(since))
        else:
            response = sim.route(request) or HttpResponse(404, b"not found", "text/plain")
        self._send(response)

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def _drop(self) -> None:
        """Close the connection without an answer, as a failing proxy or network does."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _without_query(text: str) -> str:
    """Log text (a request line, or an error quoting one) with every query string cut off."""
    return _QUERY.sub("?...", text)


def _json(value: object) -> HttpResponse:
    return HttpResponse(200, json.dumps(value, default=str).encode())


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, sim: Simulator, host: str, port: int) -> None:
        self.sim = sim
        super().__init__((host, port), Handler)
        bound_host, bound_port = self.server_address[:2]
        sim.base_url = f"http://{bound_host}:{bound_port}"

    @property
    def endpoint(self) -> str:
        return self.sim.base_url + API_PATH
