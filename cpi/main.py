"""`cloudstack-cpi [--config PATH]`: one JSON request on stdin, one JSON response on stdout, logs on stderr.

The exit code is always 0 (the caller ignores it); every failure is a BOSH error in the response. While the method
runs, file descriptor 1 points at stderr so that nothing (a library, a child process) can corrupt the response.
Only the standard library and cpi.protocol/cpi.methods' table are imported up front: `info` and argument errors
never load requests/cs (cold start matters, the director starts one process per call).
"""
from __future__ import annotations

import io
import json
import logging
import os
import sys
from typing import Any

from cpi.methods import Method, load, resolve
from cpi.protocol import BoshError, CloudError, CpiError, Request, failure, parse_request, success

log = logging.getLogger("cpi")

USAGE = "usage: cloudstack-cpi [--config PATH | PATH] < request.json"
HELP = f"""cloudstack-cpi: the BOSH CPI for Apache CloudStack (BOSH's external CPI protocol).

{USAGE}
       cloudstack-cpi --help | --version

Reads one JSON request on stdin ({{"method": ..., "arguments": [...], "context": {{...}}, "api_version": 2}}),
writes one JSON response on stdout, logs on stderr. The exit code is 0 even on failure: errors are BOSH errors
in the response. The director and `bosh create-env` run it through the cloudstack_cpi job's bin/cpi.

Config (cpi.json, the job's cloudstack properties): --config PATH or a bare PATH, else
$BOSH_JOBS_DIR/cloudstack_cpi/config/cpi.json (BOSH_JOBS_DIR defaults to /var/vcap/jobs).
BOSH_LOG_LEVEL=debug logs more. See docs/cpi.md.
"""


def config_path_from(argv: list[str]) -> str | None:
    """`--config PATH`, `--config=PATH` or a bare PATH (what a bin/cpi wrapper passes); None: the default."""
    path = None
    items = iter(argv)
    for item in items:
        if item == "--config":
            path = next(items, None)
            if path is None:
                raise CpiError(f"--config needs a file path; {USAGE}")
        elif item.startswith("--config="):
            path = item.split("=", 1)[1]
        elif item.startswith("-"):
            raise CpiError(f"unknown option {item}; {USAGE}")
        elif path is None:
            path = item
        else:
            raise CpiError(f"unexpected argument {item}; {USAGE}")
    return path


def _setup_logging(buffer: io.StringIO) -> None:
    level = logging.DEBUG if os.environ.get("BOSH_LOG_LEVEL", "").lower() == "debug" else logging.INFO
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(level)
    for handler in (logging.StreamHandler(sys.stderr), logging.StreamHandler(buffer)):
        handler.setFormatter(formatter)
        root.addHandler(handler)


def run_method(method: Method, arguments: list[Any], request: Request, config_path: str | None) -> Any:
    if not method.needs_config:
        return load(method)()
    from cpi.config import default_config_path, load_config

    config = load_config(config_path or default_config_path(), request.context)
    from cpi.methods.cloud import Cloud, cloudstack_errors  # the HTTP stack, only once the config is good

    implementation = load(method)
    with cloudstack_errors():
        return implementation(Cloud(config, request), *arguments)


def handle(text: str, argv: list[str]) -> dict[str, Any]:
    try:
        config_path = config_path_from(argv)
        request = parse_request(text)
        method, arguments = resolve(request)
        log.info("%s request_id=%s api_version=%s", request.method, request.context.get("request_id"), request.api_version)
        return success(run_method(method, arguments, request, config_path))
    except BoshError as exc:
        log.error("%s: %s", exc.bosh_type, exc.message)
        return failure(exc)
    except Exception as exc:  # a bug or an unexpected library error: still a BOSH error, never a traceback on stdout
        log.exception("unexpected error")
        return failure(CloudError(f"{type(exc).__name__}: {exc}"))


def _version() -> str:
    """The installed CPI's version: the release's wheel (cloudstack-cpi) or this project's install."""
    from importlib import metadata  # only here: every other start stays light (see the docstring)

    for distribution in ("cloudstack-cpi", "cloudstack-inception"):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if {"--help", "-h"} & set(argv):
        sys.stdout.write(HELP)
        return 0
    if "--version" in argv:
        sys.stdout.write(f"cloudstack-cpi {_version()}\n")
        return 0
    buffer = io.StringIO()
    _setup_logging(buffer)
    sys.stdout.flush()
    response_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        response = handle(sys.stdin.buffer.read().decode("utf-8", errors="replace"), argv)
    finally:
        sys.stdout.flush()
        os.dup2(response_fd, 1)
        os.close(response_fd)
    response["log"] = buffer.getvalue()
    sys.stdout.write(json.dumps(response) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
