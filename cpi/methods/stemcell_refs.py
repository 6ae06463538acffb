"""Stemcell references: every create_stemcell call owns one, as a tag on the template it shares.

One template serves every create_stemcell of the same image (found by its digest tag). Each call adds the tag
`bosh-stemcell-ref-<token>` and answers the cid `<template id>:<token>`; delete_stemcell removes that tag and deletes
the template (from every zone) only when no reference tag remains. A cid without `:` is a bare template id from
before references existed (a *legacy* cid); its holder counts as the reference `bosh-stemcell-ref-legacy`, added when
a template without the `bosh-stemcell-refs` marker (so made before references) is first reused.

Reusing a template races deleting its last reference. Both sides write first, then read (Dekker's handshake over
CloudStack's database):
- acquire: add the reference, then read the tags; a `bosh-stemcell-deleting-<token>` mark means a delete may be
  underway, so the reference is taken back and the caller makes a new template;
- release: with no reference left, add a deleting mark, then read the tags; a reference means a create came in
  between, so the mark is taken back and the template kept.
At least one side sees the other's write, so a template is never deleted under a reference that was handed out;
when both see each other, the result is an extra template (unreferenced, still found and reused by its digest,
deleted by the next release of a reference to it) or an extra reference, never a lost template.

A light stemcell's cid is `<template id>:light` (stemcell_light): the template is not the CPI's, releasing it does
nothing.
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from cpi.cloudstack.errors import CloudStackError
from cpi.methods.cloud import Cloud
from cpi.methods.tags import encode

log = logging.getLogger("cpi.stemcell")

SEPARATOR = ":"
REF_PREFIX = "bosh-stemcell-ref-"
LEGACY_TOKEN = "legacy"
LIGHT_TOKEN = "light"
DELETING_PREFIX = "bosh-stemcell-deleting-"
COUNTED_TAG = "bosh-stemcell-refs"
COUNTED_VALUE = "counted"


def template_id(cid: str) -> str:
    """The template a stemcell cid names (a legacy cid is the template id itself)."""
    return cid.split(SEPARATOR, 1)[0]


def _token(cid: str) -> str:
    return cid.split(SEPARATOR, 1)[1] if SEPARATOR in cid else LEGACY_TOKEN


def new_token() -> str:
    return uuid.uuid4().hex


def cid_for(template: str, token: str) -> str:
    return f"{template}{SEPARATOR}{token}"


def creation_tags(cloud: Cloud, token: str) -> dict[str, str]:
    """Tags a template made by create_stemcell starts with: the marker and its maker's reference."""
    return {COUNTED_TAG: COUNTED_VALUE, REF_PREFIX + token: _holder(cloud)}


def is_deleting(tags: list[dict[str, Any]] | None) -> bool:
    return any(str(t.get("key", "")).startswith(DELETING_PREFIX) for t in tags or [])


def _holder(cloud: Cloud) -> str:
    """The reference tag's value: who took it and when (for operators reading the tags)."""
    director = cloud.request.context.get("director_uuid")
    return f"director {director or 'unknown'} at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"[:255]


def _tags(cloud: Cloud, template: str) -> dict[str, str]:
    """The template's tags (none when it is gone)."""
    found = cloud.client.list_found("listTags", resourceid=template, resourcetype="Template", listall="true")
    return {t["key"]: t.get("value", "") for t in found}


def _references(tags: dict[str, str]) -> list[str]:
    return [key for key in tags if key.startswith(REF_PREFIX)]


def _exists(cloud: Cloud, template: str) -> bool:
    return bool(cloud.client.list_found("listTemplates", templatefilter="self", id=template))


def _add(cloud: Cloud, template: str, tags: dict[str, str]) -> None:
    cloud.run("createTags", "tags", resourceids=template, resourcetype="Template", tags=encode(tags))


def _remove(cloud: Cloud, template: str, tags: dict[str, str]) -> None:
    cloud.run("deleteTags", "tags", resourceids=template, resourcetype="Template", tags=encode(tags))


def _remove_quietly(cloud: Cloud, template: str, tags: dict[str, str]) -> None:
    try:
        _remove(cloud, template, tags)
    except Exception as exc:  # an extra tag is harmless; the caller's outcome matters more
        log.warning("could not remove tags %s from template %s: %s", ", ".join(tags), template, exc)


def _adopt_legacy(cloud: Cloud, template: str) -> None:
    """A template made before references: count the holder of its bare-id cid as one."""
    wanted = {REF_PREFIX + LEGACY_TOKEN: "holder of the bare template id cid", COUNTED_TAG: COUNTED_VALUE}
    try:
        _add(cloud, template, wanted)
    except CloudStackError:
        have = _tags(cloud, template)
        if any(have.get(k) != v for k, v in wanted.items()):
            raise  # not a concurrent adoption that got there first
    log.info("template %s predates stemcell references: its bare-id cid counts as one", template)


def acquire(cloud: Cloud, template: dict[str, Any]) -> str | None:
    """A new reference to an existing template; None when the template went away or is being deleted (the
    caller then makes a new one)."""
    found = template["id"]
    if is_deleting(template.get("tags")):
        return None
    token = new_token()
    mine = {REF_PREFIX + token: _holder(cloud)}
    try:
        if not any(t.get("key") == COUNTED_TAG for t in template.get("tags") or []):
            _adopt_legacy(cloud, found)
        _add(cloud, found, mine)
    except CloudStackError:
        if _exists(cloud, found):
            raise
        log.info("template %s went away while being reused", found)
        return None
    tags = _tags(cloud, found)
    if REF_PREFIX + token not in tags:
        log.info("template %s went away while being reused", found)
        return None
    if any(key.startswith(DELETING_PREFIX) for key in tags):
        log.info("template %s is being deleted by another call; making a new one", found)
        _remove_quietly(cloud, found, mine)
        return None
    return cid_for(found, token)


def release(cloud: Cloud, cid: str) -> None:
    """Remove the cid's reference; delete the template (every zone) when none remains. Idempotent: a reference
    already gone is fine, and a template left without references by an earlier failed release is deleted."""
    template, token = template_id(cid), _token(cid)
    if token == LIGHT_TOKEN:
        log.info("stemcell %s is light: template %s is not the CPI's and stays", cid, template)
        return
    tags = _tags(cloud, template)
    key = REF_PREFIX + token
    if key in tags:
        _remove(cloud, template, {key: tags[key]})
        tags = _tags(cloud, template)
    if _references(tags):
        log.info("stemcell %s released; template %s still has %d reference(s)", cid, template, len(_references(tags)))
        return
    if not _exists(cloud, template):
        log.info("stemcell %s is already gone", cid)
        return
    mark = {DELETING_PREFIX + new_token(): _holder(cloud)}
    try:
        _add(cloud, template, mark)
    except CloudStackError:
        if not _exists(cloud, template):
            return
        raise
    deleted = False
    try:
        if _references(_tags(cloud, template)):
            log.info("template %s was reused while its last reference went; keeping it", template)
            return
        try:
            cloud.run("deleteTemplate", "delete_template", id=template)
        except CloudStackError as exc:
            if not exc.is_not_found:
                raise
        deleted = True
        log.info("deleted template %s with its last reference", template)
    finally:
        if not deleted:
            _remove_quietly(cloud, template, mark)


def release_quietly(cloud: Cloud, cid: str) -> None:
    try:
        release(cloud, cid)
    except Exception as exc:  # the original error matters more
        log.warning("could not release stemcell %s after a failure: %s", cid, exc)
