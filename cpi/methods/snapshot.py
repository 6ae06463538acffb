"""snapshot_disk and delete_snapshot."""
from __future__ import annotations

import logging
import uuid
from typing import Any

from cpi.methods.cloud import Cloud
from cpi.methods.tags import encode, normalise
from cpi.protocol import DiskNotFound

log = logging.getLogger("cpi.snapshot")


def snapshot_disk(cloud: Cloud, disk_cid: str, metadata: dict[str, Any] | None) -> str:
    volume = cloud.volume(disk_cid)
    if volume is None:
        raise DiskNotFound(f"disk {disk_cid} not found")
    name = "snapshot-" + uuid.uuid4().hex[:16]
    tags = normalise({**(metadata or {}), "disk_cid": disk_cid})
    # tags go with createSnapshot itself: one call, and no untagged snapshot left behind if tagging failed
    snapshot = cloud.create_settled("createSnapshot", "snapshot_volume", "snapshot",
                                    lambda: cloud.client.find_one("listSnapshots", name=name, volumeid=disk_cid),
                                    again="delete_snapshot", leftover=f"snapshot {name}",
                                    volumeid=disk_cid, name=name, tags=encode(tags))
    log.info("snapshot %s of disk %s", snapshot["id"], disk_cid)
    return snapshot["id"]


def delete_snapshot(cloud: Cloud, snapshot_cid: str) -> None:
    if cloud.client.get_by_id("listSnapshots", snapshot_cid) is None:
        log.info("snapshot %s is already gone", snapshot_cid)
        return
    cloud.run("deleteSnapshot", "delete_snapshot", id=snapshot_cid)
