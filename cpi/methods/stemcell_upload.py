"""Stemcell modes that hand CloudStack the image file itself: (A) registerTemplate from a URL, (C) direct upload.

Both stream the disk image out of the stemcell's `image` file, decompressed and out of its tarball if it has one
(cpi.stemcell reader): no temporary copy.
"""
from __future__ import annotations

import io
import ipaddress
import logging
import secrets
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

from cpi.cloudstack.errors import OutcomeUnknownError
from cpi.config import CpiConfig
from cpi.methods.stemcell_template import Stemcell, delete_template_quietly
from cpi.protocol import CloudError
from cpi.stemcell import open_inner_image

log = logging.getLogger("cpi.stemcell")

EXTENSIONS = {"RAW": "img", "QCOW2": "qcow2", "VHD": "vhd", "VHDX": "vhdx"}


def _format_params(stemcell: Stemcell) -> dict[str, Any]:
    """registerTemplate's and getUploadParamsForTemplate's parameters (createTemplate has no `isextractable`)."""
    return {**stemcell.template_params(), "format": stemcell.info.cloudstack_format,
            "hypervisor": stemcell.hypervisor, "zoneid": stemcell.zone.id, "isextractable": "true"}


def _after_create(stemcell: Stemcell, template_id: str, operation: str) -> str:
    try:
        stemcell.wait_ready(template_id, stemcell.zone, operation)
    except Exception:
        delete_template_quietly(stemcell.cloud, template_id)
        raise
    return template_id


# -- (A) registerTemplate from a URL ----------------------------------------------------------------------------


class _ImageHandler(BaseHTTPRequestHandler):
    """Serves the inner image at one unguessable path; a new pass over the tarball per GET (CloudStack may retry)."""

    server: "_ImageServer"

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        if self.path != self.server.path:
            self.send_error(404)
            return
        with open_inner_image(self.server.image_path, self.server.image_size) as image:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(image.size))
            self.end_headers()
            if body:
                shutil.copyfileobj(image, self.wfile, 1 << 20)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        log.info("image server: " + format, *args)


class _ImageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, bind: str, image_path: str, image_size: int, filename: str) -> None:
        super().__init__((bind, 0), _ImageHandler)
        self.image_path = image_path
        self.image_size = image_size
        self.path = f"/stemcell/{secrets.token_urlsafe(16)}/{filename}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def advertised_host(config: CpiConfig) -> str:
    """The host in the URL CloudStack downloads the stemcell from. A loopback address only reaches a CloudStack
    on this machine (the simulator): for any other, fail now rather than when its download times out."""
    host = config.stemcell_http_host or config.stemcell_http_bind
    if host in ("0.0.0.0", "::", ""):
        raise CloudError("stemcell_http_bind listens on every address: set cloudstack.stemcell_http_host to the "
                         "address CloudStack's secondary storage can reach this machine at")
    if _is_loopback(host) and not _is_loopback(urlsplit(config.endpoint).hostname or ""):
        raise CloudError(f"stemcell_upload url would serve the image at {host}, which CloudStack at "
                         f"{urlsplit(config.endpoint).hostname} cannot reach: set cloudstack.stemcell_http_bind "
                         "(and stemcell_http_host) to an address of this machine its secondary storage can reach, "
                         "give the stemcell an image_url, or use stemcell_upload: upload")
    return host


def _serve(stemcell: Stemcell) -> tuple[_ImageServer, str]:
    config = stemcell.cloud.config
    host = advertised_host(config)
    filename = f"{stemcell.name}.{EXTENSIONS[stemcell.info.cloudstack_format]}"
    server = _ImageServer(config.stemcell_http_bind, stemcell.image_path, stemcell.info.size, filename)
    threading.Thread(target=server.serve_forever, name="stemcell-http", daemon=True).start()
    host_part = f"[{host}]" if ":" in host else host
    return server, f"http://{host_part}:{server.server_address[1]}{server.path}"


def create_by_url(stemcell: Stemcell) -> str:
    cloud = stemcell.cloud
    url = stemcell.props.get("image_url")
    server = None
    if not url:
        server, url = _serve(stemcell)
        log.info("serving the stemcell image for CloudStack at %s", url.rsplit("/", 2)[0] + "/...")
    try:
        params = {**_format_params(stemcell), "url": url}
        try:
            body = cloud.client.call("registerTemplate", **params)
            template_id = body["template"][0]["id"]
        except OutcomeUnknownError:
            found = cloud.client.find_one("listTemplates", templatefilter="self", name=stemcell.name, zoneid=stemcell.zone.id)
            if found is None:
                raise
            template_id = found["id"]
        return _after_create(stemcell, template_id, "upload_template")
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()


# -- (C) getUploadParamsForTemplate + POST ----------------------------------------------------------------------


class _MultipartBody(io.RawIOBase):
    """multipart/form-data with one file field, streamed from the image reader; its length is known up front."""

    def __init__(self, image: Any, filename: str) -> None:
        super().__init__()
        self.boundary = secrets.token_hex(16)
        self._parts = [
            io.BytesIO((f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                        f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()),
            image,
            io.BytesIO(f"\r\n--{self.boundary}--\r\n".encode()),
        ]
        self._length = len(self._parts[0].getvalue()) + image.size + len(self._parts[2].getvalue())
        self._sent = 0

    def __len__(self) -> int:
        return self._length

    def tell(self) -> int:  # requests derives Content-Length from len() - tell()
        return self._sent

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while self._parts:
            n = self._parts[0].readinto(view)
            if n:
                self._sent += n
                return n
            self._parts.pop(0)
        return 0


def create_by_upload(stemcell: Stemcell) -> str:
    cloud = stemcell.cloud
    body = cloud.client.call("getUploadParamsForTemplate", **_format_params(stemcell))
    upload = body.get("getuploadparams", body)
    template_id = upload["id"]
    filename = f"{stemcell.name}.{EXTENSIONS[stemcell.info.cloudstack_format]}"
    try:
        with open_inner_image(stemcell.image_path, stemcell.info.size) as image:
            payload = _MultipartBody(image, filename)
            response = requests.post(
                upload["postURL"], data=payload, verify=cloud.client.verify,
                timeout=(30, cloud.config.timeout("upload_template")),
                headers={"Content-Type": f"multipart/form-data; boundary={payload.boundary}",
                         "X-signature": upload["signature"], "X-metadata": upload["metadata"],
                         "X-expires": str(upload["expires"])},
            )
        if response.status_code >= 300:
            raise CloudError(f"template upload refused: HTTP {response.status_code} {response.text[:200]}")
    except requests.RequestException as exc:
        delete_template_quietly(cloud, template_id)
        raise CloudError(f"template upload failed: {type(exc).__name__}", ok_to_retry=True) from None
    except Exception:
        delete_template_quietly(cloud, template_id)
        raise
    return _after_create(stemcell, template_id, "upload_template")
