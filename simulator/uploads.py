"""Browser-style template upload: getUploadParamsForTemplate's answer and the POST to its `postURL`.

As in CloudStack (GetUploadParamsForTemplateCmd, NfsPostUploadRequestValidationService, HttpUploadServerHandler):
- `postURL` is `http://<host>/upload/<template uuid>`; `expires` an ISO time (UTC, milliseconds) one hour
  ahead (upload.operation.timeout); `metadata` an opaque, encrypted blob describing the upload; `signature` the
  base64 HMAC-SHA1 of `metadata + postURL + expires` keyed with a secret shared by the management server and
  the secondary storage (here a random key in the state dir, mode 0600).
- The POST must carry headers `X-signature`, `X-metadata`, `X-expires` (else 400 "signature, metadata and expires
  are compulsory fields."), a positive Content-Length, a signature recomputed over the URL the request actually
  used (`http://<Host header>/upload/<uuid>`), and must come before `expires`. The file is the multipart/form-data
  part that has a filename; it is streamed to disk, never held in memory.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .blobs import blobs_of
from .downloads import parse_checksum
from .registry import HttpRequest, HttpResponse, route

if TYPE_CHECKING:
    from .context import SimContext

UPLOAD_PREFIX = "/upload/"
PSK_FILE = "upload-psk"
TIMEOUT = timedelta(minutes=60)
CHUNK = 256 * 1024


# --- the shared secret and the parameters -------------------------------------------------------------------
def _psk(sim: "SimContext") -> str:
    psk = sim.__dict__.get("_upload_psk")
    if psk is not None:
        return psk
    path = sim.options.state_dir / PSK_FILE if sim.options.state_dir is not None else None
    if path is not None and path.exists():
        psk = path.read_text().strip()
    else:
        psk = secrets.token_urlsafe(48)
        if path is not None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(psk)
    return sim.__dict__.setdefault("_upload_psk", psk)


def sign(data: str, key: str) -> str:
    """EncryptionUtil.generateSignature: base64(HMAC-SHA1(key, data))."""
    return base64.b64encode(hmac.new(key.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _encrypt(sim: "SimContext", payload: dict[str, Any]) -> str:
    key = hashlib.sha256(_psk(sim).encode()).digest()
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(payload).encode(), None)
    return base64.b64encode(nonce + sealed).decode()


def _decrypt(sim: "SimContext", metadata: str) -> dict[str, Any] | None:
    try:
        raw = base64.b64decode(metadata, validate=True)
        key = hashlib.sha256(_psk(sim).encode()).digest()
        return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], None))
    except Exception:  # anything undecodable is simply not valid metadata
        return None


def upload_params(sim: "SimContext", template: dict[str, Any]) -> dict[str, Any]:
    """The `getuploadparams` object for a template waiting for its upload."""
    host = sim.base_url.split("://", 1)[1]
    post_url = f"http://{host}{UPLOAD_PREFIX}{template['id']}"
    expires = (datetime.now(timezone.utc) + TIMEOUT).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    metadata = _encrypt(sim, {"id": template["id"], "type": "TEMPLATE", "name": template["name"],
                              "format": template["format"], "checksum": template.get("_checksum")})
    return {"id": template["id"], "postURL": post_url, "metadata": metadata, "expires": expires,
            "signature": sign(metadata + post_url + expires, _psk(sim))}


# --- the POST ------------------------------------------------------------------------------------------------
def _text(status: int, message: str) -> HttpResponse:
    # The body was (maybe) not read: the connection cannot be reused for another request.
    return HttpResponse(status, message.encode(), "text/plain; charset=UTF-8", {"Connection": "close"})


@route("POST", UPLOAD_PREFIX, stream=True)
def post_upload(sim: "SimContext", request: HttpRequest) -> HttpResponse:
    uuid = request.path[len(UPLOAD_PREFIX):].strip("/")
    signature = request.headers.get("x-signature", "")
    metadata = request.headers.get("x-metadata", "")
    expires = request.headers.get("x-expires", "")
    if not (signature and metadata and expires):
        return _fail(sim, uuid, "signature, metadata and expires are compulsory fields.")
    try:
        length = int(request.headers.get("content-length") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return _text(400, "content length is not set in the request or has invalid value.")
    full_url = f"http://{request.headers.get('host', '')}{UPLOAD_PREFIX}{uuid}"
    if not hmac.compare_digest(sign(metadata + full_url + expires, _psk(sim)), signature):
        return _fail(sim, uuid, "signature validation failed.")
    try:
        deadline = datetime.strptime(expires.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return _fail(sim, uuid, "signature validation failed.")
    if deadline < datetime.now(timezone.utc):
        return _fail(sim, uuid, "request not valid anymore.")
    meta = _decrypt(sim, metadata)
    if meta is None or meta.get("id") != uuid:
        return _fail(sim, uuid, "signature validation failed.")
    with sim.store.lock:
        tpl = sim.store.get("template", uuid)
        if tpl is None or tpl.get("_removed"):
            return _text(400, f"Unable to find the template {uuid} to upload to.")
        if tpl.get("status") not in ("NotUploaded", "UploadError"):
            return _text(400, "The one time post url is already used")
        tpl["status"] = "UploadInProgress"
    return _receive(sim, uuid, request, length, meta.get("checksum"))


def _fail(sim: "SimContext", uuid: str, message: str) -> HttpResponse:
    """Reject the request; like the SSVM, remember the error on a template still waiting for its upload."""
    with sim.store.lock:
        tpl = sim.store.get("template", uuid)
        if tpl is not None and tpl.get("status") in ("NotUploaded", "UploadError"):
            tpl["status"] = "UploadError"
            tpl["_upload_error"] = message
    return _text(400, message)


def _receive(sim: "SimContext", uuid: str, request: HttpRequest, length: int, checksum: str | None) -> HttpResponse:
    assert request.stream is not None
    blobs = blobs_of(sim)
    out, tmp = blobs.temp_file()
    sha256 = hashlib.sha256()
    wanted = parse_checksum(checksum)
    verify = hashlib.new(wanted[0]) if wanted else None
    try:
        with out:
            found = _stream_file_part(request.stream, length, request.headers.get("content-type", ""), out,
                                      [d for d in (sha256, verify) if d is not None])
        if not found:
            return _upload_failed(sim, uuid, "no file found in the multipart/form-data body")
        if verify is not None and wanted is not None and verify.hexdigest() != wanted[1]:
            return _upload_failed(sim, uuid, f'checksum "{verify.hexdigest()}" didn\'t match the given value, '
                                             f'"{wanted[1]}"')
        digest = blobs.adopt(tmp, sha256.hexdigest())
    except (ValueError, OSError) as err:
        return _upload_failed(sim, uuid, f"upload failed: {err}")
    finally:
        tmp.unlink(missing_ok=True)
    size = blobs.size(digest)
    with sim.store.lock:
        tpl = sim.store.get("template", uuid)
        if tpl is not None and not tpl.get("_removed"):
            tpl.update(isready=True, status="Download Complete", size=size, physicalsize=size, _sha256=digest,
                       _size=size)
            sim.store.save()
    return HttpResponse(200, b"upload successful.", "text/plain; charset=UTF-8")


def _upload_failed(sim: "SimContext", uuid: str, message: str) -> HttpResponse:
    with sim.store.lock:
        tpl = sim.store.get("template", uuid)
        if tpl is not None:
            tpl["status"] = message
            sim.store.save()
    return _text(400, message)


def _stream_file_part(stream: BinaryIO, length: int, content_type: str, out: BinaryIO, digests: list) -> bool:
    """Copy the first multipart part that carries a filename into `out`, reading exactly `length` bytes."""
    boundary = _boundary(content_type)
    reader = _Bounded(stream, length)
    delimiter = b"\r\n--" + boundary
    reader.read_until_or_eof(b"--" + boundary)   # the preamble before the first delimiter
    found = False
    while not reader.exhausted:
        if reader.readline().startswith(b"--"):   # "--boundary--" closes the body
            break
        headers = reader.read_headers()
        is_file = any(h.lower().startswith(b"content-disposition") and b"filename=" in h for h in headers)
        sink = out if is_file and not found else None
        reader.copy_until(delimiter, sink, digests if sink is not None else [])
        found = found or sink is not None
    reader.drain()
    return found


def _boundary(content_type: str) -> bytes:
    if not content_type.lower().startswith("multipart/form-data"):
        raise ValueError("expected a multipart/form-data body")
    for item in content_type.split(";")[1:]:
        key, _, value = item.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode()
    raise ValueError("multipart/form-data without a boundary")


class _Bounded:
    """A reader over exactly `length` bytes of a socket stream, with a small look-ahead buffer."""

    def __init__(self, stream: BinaryIO, length: int) -> None:
        self.stream, self.left, self.buf = stream, length, b""

    @property
    def exhausted(self) -> bool:
        return self.left <= 0 and not self.buf

    def _fill(self, want: int = CHUNK) -> bool:
        if self.left <= 0:
            return False
        data = self.stream.read(min(want, self.left))
        if not data:
            self.left = 0
            return False
        self.left -= len(data)
        self.buf += data
        return True

    def read_until_or_eof(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            if not self._fill():
                data, self.buf = self.buf, b""
                return data
        before, _, self.buf = self.buf.partition(marker)
        return before

    def readline(self) -> bytes:
        while b"\r\n" not in self.buf:
            if not self._fill():
                data, self.buf = self.buf, b""
                return data
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def read_headers(self) -> list[bytes]:
        headers = []
        while True:
            line = self.readline()
            if not line:
                return headers
            headers.append(line)

    def copy_until(self, marker: bytes, sink: BinaryIO | None, digests: list) -> None:
        """Pass bytes to `sink` until `marker`, keeping back a possible partial marker at the buffer's end."""
        while True:
            index = self.buf.find(marker)
            if index >= 0:
                self._emit(self.buf[:index], sink, digests)
                self.buf = self.buf[index + len(marker):]
                return
            keep = len(marker) - 1
            if len(self.buf) > keep:
                self._emit(self.buf[:-keep], sink, digests)
                self.buf = self.buf[-keep:]
            if not self._fill():
                raise ValueError("multipart body ended before its closing boundary")

    @staticmethod
    def _emit(data: bytes, sink: BinaryIO | None, digests: list) -> None:
        if sink is not None and data:
            sink.write(data)
            for d in digests:
                d.update(data)

    def drain(self) -> None:
        while self._fill():
            self.buf = b""
