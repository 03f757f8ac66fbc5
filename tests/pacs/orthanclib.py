# SPDX-License-Identifier: GPL-3.0-or-later
"""The tests' own Orthanc (Debian's orthanc + orthanc-dicomweb), shared by the pacs suite
(test_pacs.py, test_pacs_dimse.py), the GUI test (tests/gui/test_pacs_dialog.py) and
bench/pacs-run: started on loopback with its own configuration, free ports and a temporary
storage folder; always stopped by the caller (stop())."""

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

USER, PASSWORD = "mm-test", "s3cret-not-logged"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dicomweb_plugin():
    """The plugin's path from the package's file list (dpkg -L orthanc-dicomweb)."""
    p = subprocess.run(["dpkg", "-L", "orthanc-dicomweb"], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.endswith("/libOrthancDicomWeb.so"):
            return line
    for line in p.stdout.splitlines():
        if "libOrthancDicomWeb.so" in line:
            return line
    return None


def skip_reason():
    """Why the Orthanc tests cannot run here (naming the Debian package), or None."""
    if shutil.which("Orthanc") is None:
        return "Orthanc is not installed (Debian package orthanc)"
    if dicomweb_plugin() is None:
        return "the DICOMweb plugin is not installed (Debian package orthanc-dicomweb)"
    return None


def dimse_config(our_aet, pacs_aet):
    """Configuration for the DICOM port: our_aet a known modality allowed echo, find, get and
    store (not move), no "always allow" for unknown callers, the modality's host checked.
    Orthanc 1.10 binds its DICOM port on all interfaces; the test's clients are loopback only
    and the port is a free, random one."""
    return {
        "DicomAet": pacs_aet,
        "DicomModalities": {"mm": {"AET": our_aet, "Host": "127.0.0.1",
                                   "Port": free_port(), "AllowEcho": True,
                                   "AllowFind": True, "AllowGet": True,
                                   "AllowMove": False, "AllowStore": True}},
        "DicomAlwaysAllowEcho": False, "DicomAlwaysAllowStore": False,
        "DicomAlwaysAllowFind": False, "DicomAlwaysAllowGet": False,
        "DicomAlwaysAllowMove": False,
        "DicomCheckModalityHost": True, "DicomCheckCalledAet": True,
    }


class Orthanc:
    """An Orthanc of the test's own: loopback only (remote access off; Orthanc 1.10 binds
    all interfaces and refuses non-loopback clients), DICOM store/echo from unknown AEs off,
    basic authentication on (unless auth=False), storage in a temporary folder."""

    def __init__(self, workdir, auth=True, extra=None):
        self.auth = auth
        self.dir = os.path.join(workdir, "orthanc")
        os.makedirs(os.path.join(self.dir, "db"))
        self.http, self.dicom = free_port(), free_port()
        conf = {
            "Name": "MetalmarkTest",
            "StorageDirectory": os.path.join(self.dir, "db"),
            "IndexDirectory": os.path.join(self.dir, "db"),
            "HttpPort": self.http, "DicomPort": self.dicom,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": auth,
            "RegisteredUsers": {USER: PASSWORD},
            "DicomAlwaysAllowEcho": False, "DicomAlwaysAllowStore": False,
            "DicomCheckCalledAet": True,
            "Plugins": [dicomweb_plugin()],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            "StableAge": 1,
        }
        conf.update(extra or {})  # dimse_config(): the DICOM port's AE titles
        self.conf = os.path.join(self.dir, "orthanc.json")
        with open(self.conf, "w") as f:
            json.dump(conf, f)
        self.log = open(os.path.join(self.dir, "orthanc.log"), "w")
        self.proc = subprocess.Popen(["Orthanc", self.conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.base = "http://127.0.0.1:%d" % self.http
        self.url = self.base + "/dicom-web"
        deadline = time.time() + 60
        while True:
            try:
                self.rest("/system")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("Orthanc did not start; see " + self.log.name)
                time.sleep(0.2)

    def rest(self, path, data=None, method=None):
        req = urllib.request.Request(self.base + path, data=data, method=method)
        token = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        req.add_header("Authorization", "Basic " + token)
        with urllib.request.urlopen(req, timeout=60) as r:
            body = r.read()
        return json.loads(body) if body[:1] in (b"{", b"[") else body

    def upload(self, folder):
        """Every file of folder through the REST API, in name order."""
        for f in sorted(os.listdir(folder)):
            with open(os.path.join(folder, f), "rb") as fh:
                self.rest("/instances", fh.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
