#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli pacs against a misbehaving DICOMweb server (a small http.server run here):
malformed JSON, truncated multipart, wrong content types, a part that is not DICOM, a
server that never answers, 401/403/404/500, a redirect, an oversized header block. Each
must end with exit 1 and one line on stderr naming the reason, with nothing left in the
output folder, beside it or in the cache. TAP output."""

import argparse
import http.server
import json
import os
import shutil
import signal
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import struct
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, run  # noqa: E402

STUDY, SERIES = "1.2.3", "1.2.3.4"
BOUNDARY = "mm-fake-boundary"


def dicom_part(uid_byte=1, size=300):
    """A minimal Part 10 look-alike: the 128-byte preamble, DICM, filler bytes."""
    return b"\0" * 128 + b"DICM" + bytes([uid_byte]) * (size - 132)


def multipart(parts, close=True, ctype="application/dicom"):
    body = b""
    for p in parts:
        body += (b"--" + BOUNDARY.encode() + b"\r\nContent-Type: " + ctype.encode()
                 + b"\r\n\r\n" + p + b"\r\n")
    if close:
        body += b"--" + BOUNDARY.encode() + b"--\r\n"
    return body


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, ctype, body, length=True, headers=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):  # noqa: N802 - http.server's name
        kind = self.path.split("/")[1]
        if kind.startswith("thumb-"):
            return self.thumbnail(kind[len("thumb-"):])
        related = 'multipart/related; type="application/dicom"; boundary=' + BOUNDARY
        if kind in ("401", "403", "404", "500"):
            self.send(int(kind), "text/plain", b"no\n")
        elif kind == "badjson":
            self.send(200, "application/dicom+json", b'[{"0020000D": {"vr": "UI", "Value": [')
        elif kind == "notarray":
            self.send(200, "application/dicom+json", b'{"a": 1}')
        elif kind == "baduid":
            self.send(200, "application/dicom+json",
                      b'[{"0020000D": {"vr": "UI", "Value": ["../../etc"]}}]')
        elif kind == "html":
            self.send(200, "text/html", b"<html>login</html>")
        elif kind == "redirect":
            self.send(302, "text/plain", b"", headers=[("Location", "http://example.org/")])
        elif kind == "hang":
            time.sleep(8)
            self.send(200, "application/dicom+json", b"[]")
        elif kind == "truncated":
            # Two whole parts, a third cut off, no closing delimiter; the connection closes.
            body = multipart([dicom_part(1), dicom_part(2)], close=False)
            body += b"--" + BOUNDARY.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n"
            body += dicom_part(3)[:150]
            self.send(200, related, body, length=False)
        elif kind == "stall":
            # One part, then silence: the read timeout, not the connection one.
            self.send_response(200)
            self.send_header("Content-Type", related)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(multipart([dicom_part(1)], close=False))
            self.wfile.flush()
            time.sleep(8)
        elif kind == "slow":
            # Twenty parts, one every 0.3 s: time to interrupt a retrieval midway.
            self.send_response(200)
            self.send_header("Content-Type", related)
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for k in range(20):
                    self.wfile.write(multipart([dicom_part(k + 1, 200000)], close=False))
                    self.wfile.flush()
                    time.sleep(0.3)
                self.wfile.write(b"--" + BOUNDARY.encode() + b"--\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif kind == "wrongtype":
            self.send(200, "application/json", b"[]")
        elif kind == "wrongpart":
            self.send(200, related, multipart([dicom_part(1)], ctype="text/plain"))
        elif kind == "notdicom":
            self.send(200, related, multipart([b"x" * 300]))
        elif kind == "noboundary":
            self.send(200, "multipart/related", b"")
        elif kind == "hugeheaders":
            body = (b"--" + BOUNDARY.encode() + b"\r\nX-Junk: " + b"a" * 40000 + b"\r\n\r\n")
            self.send(200, related, body)
        elif kind == "good":
            self.send(200, related, multipart([dicom_part(1), dicom_part(2)]))
        else:
            self.send(404, "text/plain", b"")


def png(width, height, extra=0):
    """A real grey PNG (zlib, CRCs) of width x height, padded with an ancillary chunk of extra
    bytes; made here so that the refusals below are of well-formed images."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    raw = b"".join(b"\0" + bytes([(x * 7) & 255 for x in range(width)]) for _ in range(height))
    out = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                                0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)))
    if extra:
        out += chunk(b"tEXt", b"pad\0" + b"x" * extra)
    return out + chunk(b"IEND", b"")


INSTANCES = json.dumps([{"00080018": {"vr": "UI", "Value": ["1.2.3.4.%d" % k]},
                         "00200013": {"vr": "IS", "Value": [k]}} for k in (3, 1, 2)]).encode()


def thumbnail(self, kind):
    """/thumb-KIND/studies/S/series/R/instances (the QIDO list) and .../rendered."""
    if not self.path.split("?")[0].endswith("/rendered"):
        return self.send(200, "application/dicom+json", INSTANCES)
    # The middle instance by Instance Number is 1.2.3.4.2 (listed third): anything else is
    # the wrong one.
    if "/instances/1.2.3.4.2/rendered" not in self.path:
        return self.send(500, "text/plain", b"wrong instance\n")
    answers = {
        "good": (200, "image/png", png(64, 64)),
        "none": (404, "text/plain", b"no rendered resource\n"),
        "notimage": (200, "image/png", b"<html>login</html>" * 10),
        "html": (200, "text/html", b"<html>login</html>"),
        "large": (200, "image/png", png(64, 64, extra=3 << 20)),
        "wide": (200, "image/png", png(4000, 8)),
    }
    status, ctype, body = answers.get(kind, (404, "text/plain", b""))
    self.send(status, ctype, body)


Handler.thumbnail = thumbnail


STOW_ANSWERS = {
    # 409: nothing stored, the reason per instance (PS3.18 Failed SOP Sequence).
    "refuse": (409, {"00081198": {"vr": "SQ", "Value": [
        {"00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.66.4"]},
         "00081155": {"vr": "UI", "Value": ["1.2.3.9"]},
         "00081197": {"vr": "US", "Value": [0xA900]}}]}}),
    # 202: stored with a warning (coercion).
    "warn": (202, {"00081199": {"vr": "SQ", "Value": [
        {"00081155": {"vr": "UI", "Value": ["1.2.3.9"]},
         "00081196": {"vr": "US", "Value": [0xB000]}}]}}),
    "garbage": (200, None),
}


def post_handler(self):
    kind = self.path.split("/")[1]
    length = int(self.headers.get("Content-Length", "0"))
    body = self.rfile.read(length)
    ok = b"--metalmark-" in body and b"Content-Type: application/dicom" in body
    status, answer = STOW_ANSWERS.get(kind, (404, None))
    if not ok:
        status, answer = 400, None
    data = json.dumps(answer).encode() if answer is not None else b"{not json"
    self.send(status, "application/dicom+json", data)


Handler.do_POST = post_handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the client hanging up on a stalled answer is the point of the test


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    cli = ap.parse_args().cli
    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    work = tempfile.mkdtemp(prefix="mm-pacs-hostile-")
    try:
        tests(cli, base, work)
    finally:
        srv.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return finish()


def one_line(err):
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("metalmark-cli: ")


def tests(cli, base, work):
    # Sanity: the fake server's good answer is retrieved (so the failures below are real).
    out = os.path.join(work, "good")
    rc, so, err = run(cli, "pacs", "get", "--url", base + "/good", "--study", STUDY, "--series",
                      SERIES, "--out", out)
    check("a well-formed answer: 2 files written", rc == 0 and sorted(os.listdir(out))
          == ["000001.dcm", "000002.dcm"], err)

    finds = [
        ("401", "HTTP 401"), ("403", "HTTP 403"), ("404", "HTTP 404"), ("500", "HTTP 500"),
        ("badjson", "cannot read the answer"), ("notarray", "not a JSON array"),
        ("baduid", "no valid Study Instance UID"), ("html", "not DICOM JSON"),
        ("redirect", "HTTP 302"),
    ]
    for kind, want in finds:
        rc, so, err = run(cli, "pacs", "find", "--url", base + "/" + kind)
        check("find on '%s': exit 1, one line with '%s'" % (kind, want),
              rc == 1 and want in err and one_line(err) and so == "", err)
    rc, so, err = run(cli, "pacs", "find", "--url", base + "/hang", "--timeout", "2")
    check("find on a server that never answers: timed out in one line within the timeout",
          rc == 1 and "timed out" in err and one_line(err), err)

    gets = [
        ("401", "HTTP 401"), ("403", "HTTP 403"), ("404", "HTTP 404"), ("500", "HTTP 500"),
        ("truncated", "ended early, after 2 complete parts"),
        ("wrongtype", "not multipart/related"), ("wrongpart", "not application/dicom"),
        ("notdicom", "not a DICOM file"), ("noboundary", "no boundary"),
        ("hugeheaders", "longer than 16 KiB"), ("stall", "timed out"),
    ]
    cache = os.path.join(work, "cache")
    for kind, want in gets:
        out = os.path.join(work, "out-" + kind)
        t0 = time.time()
        rc, so, err = run(cli, "pacs", "get", "--url", base + "/" + kind, "--study", STUDY,
                          "--series", SERIES, "--out", out, "--timeout", "2")
        took = time.time() - t0
        check("get on '%s': exit 1, one line with '%s'" % (kind, want),
              rc == 1 and want in err and one_line(err), err)
        check("get on '%s': nothing at the destination or beside it" % kind,
              not os.path.exists(out) and not [f for f in os.listdir(work) if f.startswith(
                  "out-" + kind)])
        if kind == "stall":
            check("get on a stalled answer: gives up after the 2 s timeout, not the server's "
                  "8 s", took < 7, "%.1f s" % took)
        rc, so, err = run(cli, "pacs", "get", "--url", base + "/" + kind, "--study", STUDY,
                          "--series", SERIES, "--cache-dir", cache, "--timeout", "2")
        check("get on '%s' into the cache: exit 1, the cache holds no series" % kind,
              rc == 1 and one_line(err) and not [f for f in os.listdir(cache)
                                                 if f.startswith("series-")]
              if os.path.isdir(cache) else rc == 1, err)

    rc, so, err = run(cli, "pacs", "get", "--url", base + "/good", "--study", "1.2.3/../x",
                      "--series", SERIES, "--out", os.path.join(work, "x"))
    check("a --study that is not a UID is a usage error (exit 2), nothing asked",
          rc == 2 and not os.path.exists(os.path.join(work, "x")), err)
    rc, so, err = run(cli, "pacs", "echo", "--url", "file:///etc/passwd")
    check("a URL that is not http(s): exit 2 in one line", rc == 2 and one_line(err), err)
    rc, so, err = run(cli, "pacs", "echo", "--url", "http://user:pw@127.0.0.1:1/")
    check("a URL with a password in it is refused", rc == 2 and "must not hold" in err, err)
    rc, so, err = run(cli, "pacs", "echo", "--url", base + "/401", "--auth", "basic",
                      "--user", "u")
    check("basic authentication without a password: exit 2 in one line",
          rc == 2 and one_line(err), err)
    # TLS verification on: a server speaking plain HTTP on an https:// URL fails cleanly
    # (a certificate check needs a TLS server; the handshake failure is what can be staged).
    rc, so, err = run(cli, "pacs", "echo", "--url", base.replace("http:", "https:") + "/good",
                      "--timeout", "3")
    check("https:// to a server without TLS: exit 1, one line", rc == 1 and one_line(err), err)
    tls_self_signed(cli, work)
    thumbnails(cli, base, work)
    interrupt(cli, base, work)
    stow(cli, base, work)


def thumbnails(cli, base, work):
    """pacs thumbnail (the app's series thumbnails): the middle instance's rendered PNG is
    written; no rendered resource, an answer that is not a PNG, one over 2 MB and one over
    1024 pixels are each refused in one line, and nothing is written."""
    out = os.path.join(work, "thumb-good.png")
    rc, so, err = run(cli, "pacs", "thumbnail", "--url", base + "/thumb-good", "--study", STUDY,
                      "--series", SERIES, "--out", out)
    check("thumbnail: the middle instance's (by Instance Number) PNG written as served",
          rc == 0 and os.path.exists(out) and open(out, "rb").read() == png(64, 64), err)
    cases = [("none", "no rendered thumbnail (HTTP 404)"),
             ("notimage", "not a PNG image"), ("html", "'text/html', not the image/png"),
             ("large", "more than the 2097152 allowed"),
             ("wide", "4000x8 pixels, more than 1024 a side")]
    for kind, want in cases:
        out = os.path.join(work, "thumb-%s.png" % kind)
        rc, so, err = run(cli, "pacs", "thumbnail", "--url", base + "/thumb-" + kind,
                          "--study", STUDY, "--series", SERIES, "--out", out, "--timeout", "5")
        check("thumbnail '%s': exit 1, one line with '%s', nothing written" % (kind, want),
              rc == 1 and want in err and one_line(err) and not os.path.exists(out), err)


def stow(cli, base, work):
    """The server's STOW-RS answer read: a refusal with its reason, a warning, garbage."""
    f = os.path.join(work, "fake-seg.dcm")
    with open(f, "wb") as out:
        out.write(dicom_part(7, 400))
    rc, so, err = run(cli, "pacs", "send", "--url", base + "/refuse", f)
    check("send refused (409 with a Failed SOP Sequence): exit 1, the reason in words and code",
          rc == 1 and "Refused" in so and "0 of 1" in so
          and "does not match the SOP class (0xA900)" in so, so + err)
    rc, so, err = run(cli, "pacs", "send", "--url", base + "/warn", f)
    check("send accepted with a warning (202): exit 0, the warning said",
          rc == 0 and "1 of 1" in so and "warning: coercion" in so, so + err)
    rc, so, err = run(cli, "pacs", "send", "--url", base + "/garbage", f)
    check("send answered with malformed JSON: exit 1, one line", rc == 1 and one_line(err)
          and "STOW-RS answer" in err, so + err)
    rc, so, err = run(cli, "pacs", "send", "--url", base + "/500", f)
    check("send to a missing endpoint: exit 1, one line naming HTTP 404",
          rc == 1 and one_line(err) and "HTTP 404" in err, so + err)


def interrupt(cli, base, work):
    """Ctrl+C (SIGINT) and SIGTERM midway through a retrieval: the command stops at once,
    says so in one line, and leaves nothing (not the instances already written)."""
    for sig, where in ((signal.SIGINT, "out"), (signal.SIGTERM, "cache")):
        name = "interrupt-%s" % where
        dest = os.path.join(work, name)
        args = ["--out", dest] if where == "out" else ["--cache-dir", dest]
        p = subprocess.Popen([cli, "pacs", "get", "--url", base + "/slow", "--study", STUDY,
                              "--series", SERIES] + args, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        parent = work if where == "out" else dest
        deadline = time.time() + 30
        started = False
        while time.time() < deadline and not started:
            time.sleep(0.05)
            if os.path.isdir(parent):
                for f in os.listdir(parent):
                    if ".partial-" in f and os.listdir(os.path.join(parent, f)):
                        started = True
        p.send_signal(sig)
        t0 = time.time()
        try:
            so, err = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            so, err = p.communicate()
        took = time.time() - t0
        check("%s during a retrieval (%s): it had written files; exit 1 within 2 s, one line "
              "'interrupted'" % (sig.name, where),
              started and p.returncode == 1 and "interrupted" in err and one_line(err)
              and took < 2, "%s rc=%s %.1f s" % (err, p.returncode, took))
        left = [f for f in os.listdir(parent)] if os.path.isdir(parent) else []
        left = [f for f in left if f.startswith(name) or ".partial-" in f or
                f.startswith("series-")]
        check("%s (%s): nothing left of the retrieval" % (sig.name, where),
              not left and (where == "cache" or not os.path.exists(dest)), left)


def tls_self_signed(cli, work):
    """Certificate verification is on: a TLS server with a self-signed certificate (made
    here with openssl) is refused, and the same server is accepted over plain HTTP."""
    if shutil.which("openssl") is None:
        results_skip("TLS: a self-signed certificate is refused", "openssl is not installed "
                     "(Debian package openssl)")
        return
    key, crt = os.path.join(work, "key.pem"), os.path.join(work, "crt.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", crt, "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True)
    if not check("openssl made a self-signed certificate", p.returncode == 0, p.stderr):
        return
    srv = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = "https://127.0.0.1:%d/good" % srv.server_address[1]
        rc, so, err = run(cli, "pacs", "find", "--url", url, "--timeout", "5")
        check("TLS with a self-signed certificate: refused (exit 1), one line naming TLS",
              rc == 1 and "TLS" in err and one_line(err), err)
        out = os.path.join(work, "tls-out")
        rc, so, err = run(cli, "pacs", "get", "--url", url, "--study", STUDY, "--series",
                          SERIES, "--out", out, "--timeout", "5")
        check("TLS with a self-signed certificate: get refused, nothing written",
              rc == 1 and not os.path.exists(out), err)
    finally:
        srv.shutdown()


def results_skip(name, why):
    from taplib import results
    results.append(True)
    print("ok %d - %s # SKIP %s" % (len(results), name, why))


if __name__ == "__main__":
    sys.exit(main())
