# SPDX-License-Identifier: GPL-3.0-or-later
"""TAP output and subprocess running shared by the Python test scripts outside tests/gui
(which has its own mmtest.py). A script imports it after putting tests/ on sys.path."""

import struct
import subprocess
import sys
import zlib

results = []


def check(name, cond, detail=""):
    """One TAP line; detail (any text) is printed as comments when the check fails."""
    results.append(bool(cond))
    n = len(results)
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name))
    if not cond and detail:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()
    return cond


def run(cmd, *args, timeout=300):
    """(exit code, stdout, stderr) of cmd with args (converted to strings)."""
    p = subprocess.run([cmd] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def read_png_gray8(path):
    """A minimal PNG reader (8-bit grey, not interlaced): an implementation independent of
    libpng, so the test does not trust the code it checks."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour == 0 and interlace == 0, path
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows, prev = [], bytearray(w)
    for y in range(h):
        f = raw[y * (w + 1)]
        line = bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a = line[x - 1] if x else 0
            b = prev[x]
            c = prev[x - 1] if x else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, b"".join(rows)


def finish():
    """The plan line and a summary after the last check; the exit code."""
    failed = results.count(False)
    print("1..%d" % len(results))
    print("# %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0
