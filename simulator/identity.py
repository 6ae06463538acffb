"""Who an account is, as jobs and owned resources name it, and the Java class of a command."""
from __future__ import annotations

from typing import Any


def owner_fields(account: dict[str, Any]) -> dict[str, Any]:
    """account/domain fields every owned resource carries (and the internal account id)."""
    return {"account": account["name"], "domainid": account["domainid"], "domain": account["domain"],
            "_accountid": account["id"]}


def java_class(command: str) -> str:
    """The `cmd` an async job shows: the command's class in CloudStack's user API package."""
    return f"org.apache.cloudstack.api.command.user.{command[0].upper()}{command[1:]}Cmd"
