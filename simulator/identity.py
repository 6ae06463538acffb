"""Who the simulator's one account is, as jobs and owned resources name it, and the Java class of a command."""
from __future__ import annotations

from typing import Any

from .store import Store


def owner_fields(store: Store) -> dict[str, Any]:
    """account/domain fields every owned resource carries (and the internal account id)."""
    acct = store.first("account")
    return {"account": acct["name"], "domainid": acct["domainid"], "domain": acct["domain"],
            "_accountid": acct["id"]}


def user_id(store: Store) -> str:
    return store.first("account")["_userid"]


def java_class(command: str) -> str:
    """The `cmd` an async job shows: the command's class in CloudStack's user API package."""
    return f"org.apache.cloudstack.api.command.user.{command[0].upper()}{command[1:]}Cmd"
