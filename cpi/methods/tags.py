"""CloudStack resource tags within CloudStack's limits (key and value: 255 characters, no empty values)."""
from __future__ import annotations

from typing import Any

from cpi.methods.cloud import Cloud

MAX_TAG_LENGTH = 255


def normalise(metadata: dict[str, Any]) -> dict[str, str]:
    """Tag-able key/values: strings cut to 255 characters, nulls and empty values dropped."""
    tags = {}
    for key, value in metadata.items():
        if value is None or value == "" or key == "":
            continue
        text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        tags[str(key)[:MAX_TAG_LENGTH]] = text[:MAX_TAG_LENGTH]
    return tags


def encode(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in tags.items()]


def set_tags(cloud: Cloud, resource_type: str, resource_id: str, metadata: dict[str, Any]) -> None:
    """Make the resource's tags for these keys equal to `metadata` (CloudStack refuses a key twice, so changed
    values are deleted first)."""
    tags = normalise(metadata)
    if not tags:
        return
    existing = {t["key"]: t.get("value") for t in cloud.client.list(
        "listTags", resourceid=resource_id, resourcetype=resource_type, listall="true")}
    stale = {k: existing[k] for k in tags if k in existing and existing[k] != tags[k]}
    if stale:
        cloud.run("deleteTags", "tags", resourceids=resource_id, resourcetype=resource_type, tags=encode(stale))
    missing = {k: v for k, v in tags.items() if existing.get(k) != v}
    if missing:
        cloud.run("createTags", "tags", resourceids=resource_id, resourcetype=resource_type, tags=encode(missing))
