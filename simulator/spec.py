"""The listApis specification of CloudStack 4.18.0 and request validation against it.

Validation mirrors ParamProcessWorker: a missing required parameter, an integer/long/short that does not parse,
a date that does not parse (yyyy-MM-dd) and a string longer than its declared length are refused with 431 and,
as ParamProcessWorker throws a ServerApiException, cserrorcode 9999.
Booleans are parsed with Java's Boolean.valueOf, which never fails: anything but "true" is false.
Unknown parameters are ignored, as CloudStack only logs them.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from .errors import PARAM_ERROR, server_error

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAP_KEY_RE = re.compile(r"^([a-z0-9_]+)\[(\d+)\]\.(.+)$")
INT_LIMITS = {"integer": 2**31, "short": 2**15, "long": 2**63}


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool
    length: int


@dataclass(frozen=True)
class Command:
    name: str
    isasync: bool
    params: dict[str, Param]          # lower-cased name -> Param
    response_name: str                # e.g. deployvirtualmachineresponse

    @property
    def short_name(self) -> str:
        """What CloudStack calls the command in its messages (getCommandName() minus "response")."""
        return self.name.lower()


class Spec:
    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data["version"]
        self.commands: dict[str, Command] = {}
        for name, api in data["apis"].items():
            params = {p.lower(): Param(p.lower(), d["type"], bool(d["required"]), int(d.get("length") or 255))
                      for p, d in api["params"].items()}
            self.commands[name.lower()] = Command(name, bool(api["isasync"]), params, name.lower() + "response")
        self.raw = data["apis"]

    def command(self, name: str) -> Command | None:
        """The command of that exact name: ApiServer's command map is case-sensitive."""
        cmd = self.commands.get(name.lower())
        return cmd if cmd is not None and cmd.name == name else None

    def validate(self, cmd: Command, raw: dict[str, str]) -> dict[str, Any]:
        """Turn the raw (lower-cased) request parameters into typed values, or raise the 431 CloudStack gives."""
        maps: dict[str, dict[int, dict[str, str]]] = {}
        scalars: dict[str, str] = {}
        for key, value in raw.items():
            m = MAP_KEY_RE.match(key)
            if m and m.group(1) in cmd.params:
                maps.setdefault(m.group(1), {}).setdefault(int(m.group(2)), {})[m.group(3)] = value
            else:
                scalars[key] = value
        out: dict[str, Any] = {}
        for name, param in cmd.params.items():
            if param.type == "map":
                if name in maps:
                    out[name] = [maps[name][i] for i in sorted(maps[name])]
                elif name in scalars and scalars[name] != "":
                    raise self._invalid(cmd, scalars[name], name)
                elif param.required:
                    raise self._missing(cmd, name)
                continue
            value = scalars.get(name)
            if value is None:
                if param.required:
                    raise self._missing(cmd, name)
                continue
            out[name] = self._convert(cmd, param, value)
        for key in ("page", "pagesize"):
            if key in scalars and key not in out:
                out[key] = self._convert(cmd, Param(key, "integer", False, 255), scalars[key])
        return out

    def _convert(self, cmd: Command, param: Param, value: str) -> Any:
        t = param.type
        if t == "boolean":
            return value.lower() == "true"
        if t in INT_LIMITS:
            if value.strip() == "" and t == "integer":
                return None
            try:
                number = int(value)
            except ValueError:
                raise self._invalid(cmd, value, param.name) from None
            if not -INT_LIMITS[t] <= number < INT_LIMITS[t]:
                raise self._invalid(cmd, value, param.name)
            return number
        if t == "date":
            try:
                return datetime.strptime(value, "%Y-%m-%d").date()
            except ValueError:
                raise server_error(PARAM_ERROR, f"Unable to parse date {value} for command {cmd.short_name}, please "
                                                "pass dates in the format mentioned in the api documentation") from None
        if t == "list":
            return [token for token in value.split(",") if token != ""]
        if t == "uuid":
            return value
        if len(value) > param.length:
            raise server_error(PARAM_ERROR, f"Unable to execute API command {cmd.short_name} due to invalid value. "
                                            f"Value greater than max allowed length {param.length} for param: "
                                            f"{param.name}")
        return value

    @staticmethod
    def _missing(cmd: Command, name: str) -> Exception:
        return server_error(PARAM_ERROR, f"Unable to execute API command {cmd.short_name} due to missing parameter "
                                         f"{name}")

    @staticmethod
    def _invalid(cmd: Command, value: str, name: str) -> Exception:
        return server_error(PARAM_ERROR, f"Unable to execute API command {cmd.short_name} due to invalid value "
                                         f"{value} for parameter {name}")


@lru_cache(maxsize=1)
def load_spec() -> Spec:
    text = resources.files("simulator").joinpath("data/cloudstack-apis.json").read_text(encoding="utf-8")
    return Spec(json.loads(text))
