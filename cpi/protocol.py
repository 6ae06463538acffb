"""The BOSH external CPI wire protocol: request parsing, BOSH error types, response documents.

Kept free of third-party imports: it is loaded for every call, including `info` (cold start matters because the
director starts one process per call).
"""
from __future__ import annotations

import json
from typing import Any

MAX_API_VERSION = 2


class BoshError(Exception):
    """An error the director understands; `bosh_type` is the Ruby class name it expects in `error.type`."""

    bosh_type = "Bosh::Clouds::CloudError"
    default_retry = False

    def __init__(self, message: str, *, ok_to_retry: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.ok_to_retry = self.default_retry if ok_to_retry is None else ok_to_retry


class CpiError(BoshError):
    """The request itself is wrong (malformed JSON, bad arguments, bad configuration)."""

    bosh_type = "Bosh::Clouds::CpiError"


class NotImplementedCpiError(CpiError):
    bosh_type = "Bosh::Clouds::NotImplemented"


class NotSupported(CpiError):
    bosh_type = "Bosh::Clouds::NotSupported"


class CloudError(BoshError):
    bosh_type = "Bosh::Clouds::CloudError"


class VMNotFound(CloudError):
    bosh_type = "Bosh::Clouds::VMNotFound"


class NoDiskSpace(CloudError):
    bosh_type = "Bosh::Clouds::NoDiskSpace"
    default_retry = True


class DiskNotAttached(CloudError):
    bosh_type = "Bosh::Clouds::DiskNotAttached"
    default_retry = True


class DiskNotFound(CloudError):
    bosh_type = "Bosh::Clouds::DiskNotFound"


class VMCreationFailed(CloudError):
    bosh_type = "Bosh::Clouds::VMCreationFailed"


class Request:
    """One parsed request (a plain class: dataclasses would cost imports on every call)."""

    def __init__(self, method: str, arguments: list[Any], context: dict[str, Any], api_version: int) -> None:
        self.method = method
        self.arguments = arguments
        self.context = context
        self.api_version = api_version


def parse_request(text: str) -> Request:
    """Parse one request document; any structural problem is a CpiError naming it."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise CpiError(f"Invalid request: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise CpiError("Invalid request: expected a JSON object with 'method' and 'arguments'")
    method = doc.get("method")
    if not isinstance(method, str) or not method:
        raise CpiError("Invalid request: 'method' must be a non-empty string")
    arguments = doc.get("arguments", [])
    if not isinstance(arguments, list):
        raise CpiError("Invalid request: 'arguments' must be an array")
    context = doc.get("context")
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise CpiError("Invalid request: 'context' must be an object")
    api_version = doc.get("api_version", 1)
    if api_version is None:
        api_version = 1
    if not isinstance(api_version, int) or isinstance(api_version, bool) or api_version < 1:
        raise CpiError(f"Invalid request: 'api_version' must be a positive integer, got {api_version!r}")
    if api_version > MAX_API_VERSION:
        raise CpiError(f"Invalid request: api_version {api_version} is not supported (max {MAX_API_VERSION})")
    return Request(method=method, arguments=arguments, context=context, api_version=api_version)


def success(result: Any, log: str = "") -> dict[str, Any]:
    return {"result": result, "error": None, "log": log}


def failure(error: BoshError, log: str = "") -> dict[str, Any]:
    return {
        "result": None,
        "error": {"type": error.bosh_type, "message": error.message, "ok_to_retry": bool(error.ok_to_retry)},
        "log": log,
    }
