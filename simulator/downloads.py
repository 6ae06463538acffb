"""registerTemplate's download: fetch the URL in a background thread, verify the checksum, keep the bytes.

Deliberate difference from CloudStack: the simulator downloads only from loopback addresses (127.0.0.0/8, ::1,
localhost) and never opens a connection anywhere else, while a real management server refuses exactly those
hosts and only allows ports 80, 8080 and 443. Everything else — the status strings ("N% Downloaded",
"Download Complete", error texts), `isready`, checksums in CloudStack's `{ALGO}hex` form — follows CloudStack.
In realistic mode the status also advances with time so that a download takes about as long as on a real cloud.
"""
from __future__ import annotations

import hashlib
import http.client
import ipaddress
import logging
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .blobs import blobs_of
from .errors import param_error, server_error, PARAM_ERROR

if TYPE_CHECKING:
    from .context import SimContext

log = logging.getLogger("simulator.downloads")

# DigestHelper: "{ALGO}hex"; without a prefix CloudStack takes MD5 (the simulator also accepts a bare SHA hex).
ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-224": "sha224", "SHA-256": "sha256", "SHA-384": "sha384",
              "SHA-512": "sha512"}
HEX_LENGTHS = {32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}
# UriUtils.checkFormat: the URL path must end like the image format.
FORMAT_SUFFIXES = {
    "vhd": ("vhd",), "vhdx": ("vhdx",), "qcow2": ("qcow2",), "ova": ("ova",), "tar": ("tar",),
    "raw": ("img", "raw"), "vmdk": ("vmdk",), "iso": ("iso",),
}
CHUNK = 256 * 1024
PROGRESS_EVERY = 0.25  # seconds between status updates


def parse_checksum(value: str | None) -> tuple[str, str] | None:
    """(hashlib name, lower-case hex) of a checksum parameter, or None when none was given."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("{"):
        algo, _, digest = text[1:].partition("}")
        name = ALGORITHMS.get(algo.upper())
        if name is None:
            raise param_error(f"Checksum algorithm {algo} is not supported: use one of {', '.join(ALGORITHMS)}")
    else:
        digest = text
        name = HEX_LENGTHS.get(len(digest), "")
    try:
        bytes.fromhex(digest)
    except ValueError:
        name = ""
    if not name or len(digest) * 4 != hashlib.new(name).digest_size * 8:
        raise param_error(f"Checksum {value} is not a valid hexadecimal digest")
    return name, digest.lower()


def check_format_suffix(url: str, fmt: str) -> None:
    path = urlsplit(url).path.lower()
    suffixes = FORMAT_SUFFIXES.get(fmt.lower())
    if suffixes is None:
        return
    endings = [s + extra for s in suffixes for extra in ("", ".zip", ".bz2", ".gz")]
    if not any(path.endswith(e) for e in endings):
        raise server_error(PARAM_ERROR, f"Please specify a valid URL. URL:{urlsplit(url).path} is an invalid for "
                                        f"the format {fmt.lower()}")


def check_url(url: str) -> None:
    """Refuse URLs the simulator will not fetch, before anything is created."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise server_error(PARAM_ERROR, f"Unsupported scheme for url: {url}")
    host = parts.hostname or ""
    if host.lower() != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise param_error(f"The simulator downloads templates only from loopback addresses (127.0.0.0/8, ::1, "
                              f"localhost); refusing {host or url} without connecting to it")


class Download:
    """One template download, run in its own thread; updates the template record under the store lock."""

    def __init__(self, sim: "SimContext", template_id: str) -> None:
        self.sim = sim
        self.template_id = template_id

    def start(self) -> None:
        thread = threading.Thread(target=self.run, name=f"download-{self.template_id}", daemon=True)
        active_downloads(self.sim)[self.template_id] = thread
        thread.start()

    def _template(self) -> dict[str, Any] | None:
        tpl = self.sim.store.get("template", self.template_id)
        return None if tpl is None or tpl.get("_removed") else tpl

    def _update(self, **fields: Any) -> bool:
        with self.sim.store.lock:
            tpl = self._template()
            if tpl is None:
                return False
            tpl.update(fields)
            return True

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a download error is a template status, never a crash
            log.debug("download of template %s failed", self.template_id, exc_info=True)
            self._update(status=f"Failed to download template: {exc}", isready=False, _downloading=False)
            self.sim.store.save()
        finally:
            active_downloads(self.sim).pop(self.template_id, None)

    def _run(self) -> None:
        with self.sim.store.lock:
            tpl = self._template()
            if tpl is None:
                return
            url, checksum = tpl["_url"], parse_checksum(tpl.get("_checksum"))
        duration = self.sim.timing.duration("template_download")
        started = time.monotonic()
        blobs = blobs_of(self.sim)
        sha256 = hashlib.sha256()
        verify = hashlib.new(checksum[0]) if checksum else None
        parts = urlsplit(url)
        conn_cls = http.client.HTTPSConnection if parts.scheme.lower() == "https" else http.client.HTTPConnection
        host = "127.0.0.1" if (parts.hostname or "").lower() == "localhost" else parts.hostname
        conn = conn_cls(host, parts.port, timeout=30)
        out, tmp = blobs.temp_file()
        try:
            with out:
                if not self._fetch(conn, parts, out, [sha256] + ([verify] if verify else []), started, duration):
                    return
            if verify is not None and verify.hexdigest() != checksum[1]:
                raise RuntimeError(f'checksum "{verify.hexdigest()}" didn\'t match the given value, "{checksum[1]}"')
            digest = blobs.adopt(tmp, sha256.hexdigest())
        finally:
            conn.close()
            tmp.unlink(missing_ok=True)
        while time.monotonic() - started < duration:  # realistic mode: the download takes its time
            if not self._progress(1.0, started, duration):
                return
            time.sleep(max(0.0, min(PROGRESS_EVERY, duration - (time.monotonic() - started))))
        size = blobs.size(digest)
        if self._update(isready=True, status="Download Complete", size=size, physicalsize=size,
                        _downloading=False, _sha256=digest, _size=size):
            self.sim.store.save()

    def _fetch(self, conn: http.client.HTTPConnection, parts: Any, out: Any, digests: list, started: float,
               duration: float) -> bool:
        """Stream the body into `out`; False when the template went away meanwhile."""
        conn.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                     headers={"Host": parts.netloc, "User-Agent": "cloudstack-sim"})
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"HTTP Server returned {resp.status} (expected 200 OK)")
        total = int(resp.getheader("Content-Length") or 0)
        received, last = 0, 0.0
        while True:
            chunk = resp.read(CHUNK)
            if not chunk:
                return True
            out.write(chunk)
            for digest in digests:
                digest.update(chunk)
            received += len(chunk)
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY:
                last = now
                if not self._progress(received / total if total else 0.0, started, duration):
                    return False

    def _progress(self, fraction: float, started: float, duration: float) -> bool:
        if duration > 0:
            fraction = min(fraction, (time.monotonic() - started) / duration)
        percent = min(int(fraction * 100), 99)
        return self._update(status=f"{percent}% Downloaded")


def active_downloads(sim: "SimContext") -> dict[str, threading.Thread]:
    return sim.__dict__.setdefault("_active_downloads", {})


def resume_downloads(sim: "SimContext") -> None:
    """After a restart, downloads that were running start again (the caller holds the store lock)."""
    running = active_downloads(sim)
    for tpl in sim.store.find("template", _downloading=True):
        if tpl["id"] not in running and not tpl.get("_removed"):
            Download(sim, tpl["id"]).start()
