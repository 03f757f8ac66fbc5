#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
""""Open from PACS…" (issue 15) as a person uses it, against a real Orthanc started here
(tests/pacs/orthanclib.py, on loopback, without authentication: that is the CLI tests'; its
DICOM port knows our AE title MMTEST):
Ctrl+Shift+P opens the dialog with the server of $MM_PACS_URL; Test Connection says the
server answers; Search lists the phantom's study; clicking it lists its series, whose row
shows the server's rendered thumbnail (WADO-RS rendered of the middle instance; on screen it
is not uniform: the phantom's slice); Open Series
retrieves it into the cache ($XDG_CACHE_HOME/metalmark/pacs) and the window shows it, with
`metalmark-cli info` on the cached copy equals it on the source. Screenshots of the dialog are saved (MM_TEST_SHOTS) to be looked at.

Ctrl+M and Send Mask to PACS (Ctrl+Shift+E) over STOW-RS: the toast says accepted, Orthanc
holds the SEG referencing the CT series.

Then Preferences → PACS: a DIMSE server added by typing (name, kind, AET@host:port, our AE
title), Test Connection answered; the app restarted (GSettings in a key file) keeps it; Open
from PACS with it (C-FIND, C-GET into the cache): the cached files' pixels equal pydicom's on
the uploaded ones; Ctrl+M, then Send Mask to PACS (Ctrl+Shift+E): the toast says accepted and
Orthanc's REST API holds a SEG referencing the CT series whose frames (pydicom) equal
HU >= 3000 of each uploaded slice. Hostile servers (a host that does not exist, a closed
port, a socket that never answers) each give one line and leave nothing in the cache.

Run through tests/gui/run-under-xvfb. TAP on stdout."""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "pacs"))
sys.path.insert(0, os.path.join(HERE, ".."))
from mmtest import Tap, children, find, name, role, safe, wait_for, walk  # noqa: E402
from test_atspi import START_TIMEOUT, UI_TIMEOUT, App, finish  # noqa: E402
import pyatspi  # noqa: E402  (test_atspi skips the run without it)

NET_TIMEOUT = 60


def xdo(*args):
    return subprocess.run(["xdotool"] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=30)


def xwindow(pid, title):
    for w in xdo("search", "--onlyvisible", "--pid", pid).stdout.split():
        if xdo("getwindowname", w).stdout.strip() == title:
            return w
    return None


def click(pid, title, node):
    """Click the middle of node, in the X window titled title (positions relative to it)."""
    w = xwindow(pid, title)
    e = safe(lambda: node.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    if w is None or e is None or e.width <= 0:
        return False
    xdo("mousemove", "--window", w, "--sync", e.x + e.width // 2, e.y + e.height // 2)
    time.sleep(0.1)
    xdo("click", 1)
    return True


def press(node):
    return safe(lambda: node.queryAction().doAction(0), False) is not False


def labels(node):
    return [name(n) for n, _ in walk(node) if role(n) == "label"]


OUR_AET, PACS_AET = "MMTEST", "ORTHANCTEST"
SERVER = "Orthanc DIMSE"


def showing(node):
    # GTK 4.8 reports no SHOWING state for most widgets: on screen is a non-empty extent.
    e = safe(lambda: node.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    return e is not None and e.width > 0 and e.height > 0


def frame(app, title):
    return find(app.acc, lambda n: role(n) in ("frame", "dialog", "alert") and name(n) == title
                and showing(n))


def button_in(node, label):
    # GTK 4.8 names a mnemonic button "_Label Label".
    return find(node, lambda n: role(n) in ("push button", "toggle button", "radio button")
                and name(n).replace("_", "").strip().endswith(label))


def type_into(pid, title, win, row_title, text):
    """Click the entry row titled row_title (its text field) and type text, as a person."""
    field = find(win, lambda n: role(n) == "text" and name(n) == row_title and showing(n))
    if field is None or not click(pid, title, field):
        return False
    time.sleep(0.3)
    xdo("type", "--delay", "30", text)
    return True


def choose(app, pid, title, win, row_title, index, item):
    """Open the combo row titled row_title with a click, go to its item number index with
    the keyboard (Home, Down...) and take it with Return; true when the row then shows
    item."""
    combo = find(win, lambda n: role(n) == "combo box" and name(n) == row_title and showing(n))
    before = set(xdo("search", "--onlyvisible", "--pid", pid).stdout.split())
    if combo is None or not click(pid, title, combo):
        Tap.note("choose: no combo box %r" % row_title)
        return False
    pop = wait_for(lambda: [w for w in xdo("search", "--onlyvisible", "--pid", pid).stdout.split()
                            if w not in before], UI_TIMEOUT)
    if not pop:
        Tap.note("choose: no popover for %r" % row_title)
        return False
    time.sleep(0.3)
    xdo("key", "Home")
    for _ in range(index):
        xdo("key", "Down")
    xdo("key", "Return")
    wait_for(lambda: pop[-1] not in xdo("search", "--onlyvisible", "--pid", pid).stdout.split(),
             UI_TIMEOUT)
    return wait_for(lambda: find(combo, lambda n: role(n) == "label"
                                 and name(n).startswith(item)), UI_TIMEOUT) is not None


def status_of(win, fixed):
    return " | ".join(t for t in labels(win) if t and t not in fixed)


def focus_main(app):
    wins = wait_for(lambda: xdo("search", "--onlyvisible", "--pid", app.proc.pid).stdout.split(),
                    UI_TIMEOUT)
    if not app.alive():
        Tap.note("the app exited: " + app.output()[-2000:])
    if wins:
        xdo("mousemove", "--window", wins[-1], "--sync", 200, 300)
        xdo("click", 1)


def open_preferences(tap, app):
    focus_main(app)
    xdo("key", "--clearmodifiers", "ctrl+comma")
    prefs = wait_for(lambda: frame(app, "Preferences"), UI_TIMEOUT)
    if prefs is None:
        return None
    # The view switcher's tab (three switchers: the one on screen is clicked).
    tabs = wait_for(lambda: [n for n, _ in walk(prefs) if role(n) == "page tab"
                             and name(n) == "PACS"], UI_TIMEOUT) or []
    for tab in tabs:
        if click(app.proc.pid, "Preferences", tab):
            break
    wait_for(lambda: find(prefs, lambda n: role(n) == "label" and name(n) == "PACS Servers"
                          and showing(n)), UI_TIMEOUT)
    return prefs


def keyfile_env(tmp, extra=None):
    # GSettings kept in a key file of the test's XDG_CONFIG_HOME: it survives the restart.
    env = dict(os.environ, GSETTINGS_BACKEND="keyfile", MM_PACS_TIMEOUT="4")
    env.pop("MM_PACS_URL", None)
    env.update(extra or {})
    return env


def servers_and_dimse(tap, args, tmp, orthanc, ct):
    pid_title = "Add PACS Server"
    spec = "%s@127.0.0.1:%d" % (PACS_AET, orthanc.dicom)
    app = App(args.app, [], env=keyfile_env(tmp), logdir=tmp, tag="prefs")
    if not tap.ok(app.find_accessible() is not None and wait_for(app.frames, START_TIMEOUT),
                  "the app starts again (GSettings in a key file)"):
        return app
    time.sleep(0.5)
    prefs = open_preferences(tap, app)
    if not tap.ok(prefs is not None, "Ctrl+comma opens Preferences with a PACS page"):
        return app
    add = button_in(prefs, "Add Server…")
    if add is not None:
        press(add)
    ed = wait_for(lambda: frame(app, pid_title), UI_TIMEOUT)
    if not tap.ok(ed is not None, "Add Server… opens the server editor",
                  str([(role(n), name(n), showing(n)) for n, _ in walk(prefs) if "PACS" in name(n)])
                  + str([(role(c), name(c)) for c in children(app.acc)])):
        return app
    pid = app.proc.pid
    typed = type_into(pid, pid_title, ed, "Name", SERVER)
    typed = choose(app, pid, pid_title, ed, "Kind", 1, "DIMSE") and typed
    wait_for(lambda: find(ed, lambda n: role(n) == "label" and showing(n)
                          and name(n).startswith("Called AE title")), UI_TIMEOUT)
    typed = type_into(pid, pid_title, ed, "Called AE title, host and port (AET@host:port)",
                      spec) and typed
    typed = type_into(pid, pid_title, ed, "Our AE title (calling; empty: METALMARK)",
                      OUR_AET) and typed
    tap.ok(typed, "name, kind DIMSE, AET@host:port and our AE title typed into the editor",
           str([(role(n), name(n), showing(n)) for n, _ in walk(ed)]))
    fixed = set(labels(ed))
    press(button_in(ed, "Test Connection"))
    ok = wait_for(lambda: "answered C-ECHO" in status_of(ed, fixed), NET_TIMEOUT)
    tap.ok(ok, "Test Connection: one line, the server answered C-ECHO", status_of(ed, fixed))
    press(button_in(ed, "Save"))
    row = wait_for(lambda: find(prefs, lambda n: role(n) == "label" and name(n) == SERVER
                                and showing(n)), UI_TIMEOUT)
    tap.ok(row is not None and frame(app, pid_title) is None,
           "Save closes the editor and Preferences lists the server")
    shots = os.environ.get("MM_TEST_SHOTS")
    if shots and shutil.which("import"):
        os.makedirs(shots, exist_ok=True)
        w = xwindow(pid, "Preferences")
        if w:
            subprocess.run(["import", "-window", w, os.path.join(shots, "pacs-preferences.png")])
    finish(tap, app, "Preferences, PACS page")

    # Hostile servers seeded beside the typed one (as another Preferences session would).
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    closed = orthanclib_free_port()
    kf = os.path.join(os.environ["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")
    keyfile = open(kf).read() if os.path.exists(kf) else ""
    tap.ok(SERVER in keyfile and spec in keyfile and "password" not in keyfile.lower(),
           "the server is kept in GSettings (no secret there)", keyfile[:400])
    # (name, kind, address, what the one line must say)
    hostile = [("Nowhere", "dimse", "X@no-such-host.invalid:104", "unknown host"),
               ("Closed", "dimse", "X@127.0.0.1:%d" % closed, "cannot connect"),
               ("Silent", "dimse", "X@127.0.0.1:%d" % silent.getsockname()[1],
                "no answer in time"),
               ("NowhereWeb", "dicomweb", "http://no-such-host.invalid/dicom-web",
                "no-such-host.invalid")]
    seeded = subprocess.run(["gsettings", "get", "io.github.metalmark.Metalmark",
                             "pacs-servers"], env=keyfile_env(tmp), capture_output=True,
                            text=True).stdout.strip()
    items = [seeded.rstrip("]")] if seeded.startswith("[{") else ["["]
    for n, k, a, _ in hostile:
        items.append("{'name': '%s', 'kind': '%s', 'address': '%s', 'our-aet': 'MMTEST', "
                     "'auth': 'none', 'user': ''}" % (n, k, a))
    value = items[0] + (", " if items[0] != "[" else "") + ", ".join(items[1:]) + "]"
    subprocess.run(["gsettings", "set", "io.github.metalmark.Metalmark", "pacs-servers", value],
                   env=keyfile_env(tmp), capture_output=True)
    subprocess.run(["gsettings", "set", "io.github.metalmark.Metalmark", "pacs-server", SERVER],
                   env=keyfile_env(tmp), capture_output=True)
    # The cache limit of Preferences (its least value, 64 MB) against an older series of
    # 70 MB already in the cache: the retrieval must evict it (the default 4096 would not).
    subprocess.run(["gsettings", "set", "io.github.metalmark.Metalmark", "pacs-cache-max-mb",
                    "64"], env=keyfile_env(tmp), capture_output=True)
    cache, _ = cache_listing()
    old = os.path.join(cache, "series-" + "0" * 32)
    os.makedirs(old)
    with open(os.path.join(old, "000001.dcm"), "wb") as f:
        f.write(bytes(70 << 20))  # written, not sparse: the cache counts blocks
    os.utime(old, (time.time() - 86400, time.time() - 86400))

    app = App(args.app, [], env=keyfile_env(tmp), logdir=tmp, tag="dimse")
    if not tap.ok(app.find_accessible() is not None and wait_for(app.frames, START_TIMEOUT),
                  "the app starts a third time"):
        return app
    time.sleep(0.5)
    prefs = open_preferences(tap, app)
    kept = prefs and wait_for(lambda: find(prefs, lambda n: role(n) == "label"
                                            and name(n) == SERVER and showing(n)), UI_TIMEOUT)
    tap.ok(bool(kept) and find(prefs, lambda n: spec in name(n)) is not None,
           "after the restart Preferences still lists the typed server and its address")
    if prefs is not None:
        # Clicked as a person would (an AT-SPI press while the window goes away made GTK
        # 4.8's accessibility bridge log criticals now and then).
        click(app.proc.pid, "Preferences",
              find(prefs, lambda n: role(n) == "push button" and name(n) == "Close"))
        wait_for(lambda: not [c for c in children(app.acc) if name(c) == "Preferences"],
                 UI_TIMEOUT)
    dimse_dialog(tap, args, tmp, orthanc, ct, app, hostile)
    silent.close()
    return app


def orthanclib_free_port():
    import orthanclib
    return orthanclib.free_port()


def send_mask(tap, app, server):
    """Ctrl+M once the series is read whole, then Ctrl+Shift+E until the send dialog asks (the
    segmentation runs in the background; before the mask exists the app says so in a toast),
    Send; the toast."""
    # The window's title changes with the first slice shown; Segment waits for the whole
    # series (mm-window-progressive.c), as a person waits for the panel's figures. Under
    # ASan beside another test the C-GET series took longer than one key press.
    wait_for(lambda: not find(app.acc, lambda n: role(n) == "label"
                              and name(n).startswith("Reading the series")), NET_TIMEOUT)
    focus_main(app)
    xdo("key", "--clearmodifiers", "ctrl+m")

    def ask():
        focus_main(app)
        xdo("key", "--clearmodifiers", "ctrl+shift+e")
        return wait_for(lambda: find(app.acc, lambda n: role(n) in ("dialog", "frame", "alert")
                                     and button_in(n, "Send") is not None), 3)
    dialog = wait_for(ask, UI_TIMEOUT * 3, interval=0.5)
    if not tap.ok(dialog is not None, "Ctrl+M, Ctrl+Shift+E: the app asks where to send the "
                  "mask"):
        return ""
    tap.ok(find(dialog, lambda n: server in name(n)) is not None,
           "Send to PACS offers the server chosen last (%s)" % server)
    press(button_in(dialog, "Send"))
    toast = wait_for(lambda: find(app.acc, lambda n: role(n) == "label"
                                  and ("instances" in name(n) or "refused" in name(n)
                                       or "cannot" in name(n).lower())), NET_TIMEOUT)
    return name(toast) if toast else ""


def cache_listing():
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                         "metalmark", "pacs")
    return cache, (sorted(os.listdir(cache)) if os.path.isdir(cache) else [])


def dimse_dialog(tap, args, tmp, orthanc, ct, app, hostile):
    import numpy as np
    import pydicom
    pid = app.proc.pid
    focus_main(app)
    xdo("key", "--clearmodifiers", "ctrl+shift+p")
    dialog = wait_for(lambda: frame(app, "Open from PACS"), UI_TIMEOUT)
    if not tap.ok(dialog is not None, "Ctrl+Shift+P opens the dialog again",
                  str([(role(c), name(c)) for c in children(app.acc)])):
        return
    chosen = find(dialog, lambda n: SERVER in name(n) and showing(n))
    tap.ok(chosen is not None, "the dialog's server is the one chosen last (%s)" % SERVER)
    fixed = set(labels(dialog))

    # Hostile servers first: one line, nothing in the cache.
    servers = set(n for n, _, _, _ in hostile) | {SERVER}
    previous = None
    for k, (n, kind, addr, says) in enumerate(hostile):
        before = cache_listing()[1]
        if not choose(app, pid, "Open from PACS", dialog, "Server", k + 1, n + " · "):
            tap.ok(False, "server %s chosen in the dialog" % n)
            continue
        t0 = time.monotonic()
        press(button_in(dialog, "Search"))
        def status():
            # The status line alone: not the labels of the server row. While the search
            # runs the Cancel button shows; the accessibility tree may show the new status
            # a moment before the button hides, so wait for both.
            now = [x for x in labels(dialog) if x and x not in fixed
                   and x.split(" · ")[0] not in servers]
            if "Cancel" in now:
                return None
            t = " | ".join(now)
            return t if t and t != previous and "Searching" not in t else None
        msg = wait_for(status, NET_TIMEOUT)
        previous = msg
        tap.ok(msg is not None and "\n" not in msg and " | " not in msg and says in msg
               and cache_listing()[1] == before,
               "%s (%s): Search fails in one line after %.1f s, nothing in the cache"
               % (n, addr, time.monotonic() - t0), str(msg))
        tap.note("%s: %s" % (n, msg))

    tap.ok(choose(app, pid, "Open from PACS", dialog, "Server", 0, SERVER + " · "),
           "the DIMSE server chosen again in the dialog")
    press(button_in(dialog, "Test Connection"))
    tap.ok(wait_for(lambda: "answered C-ECHO" in status_of(dialog, fixed), NET_TIMEOUT),
           "Test Connection over DIMSE: the server answered C-ECHO", status_of(dialog, fixed))
    press(button_in(dialog, "Search"))
    study_row = wait_for(lambda: find(dialog, lambda n: role(n) in ("list item", "row", "list box row")
                                      and "Phantom^Metalmark" in " ".join(labels(n)) + name(n)),
                         NET_TIMEOUT)
    tap.ok(study_row is not None, "C-FIND lists the phantom's study", status_of(dialog, fixed))
    if study_row is None:
        return
    safe(lambda: study_row.queryComponent().grabFocus())
    time.sleep(0.5)
    click(pid, "Open from PACS", study_row)
    series_row = wait_for(lambda: find(dialog, lambda n: role(n) in ("list item", "row", "list box row")
                                       and "24 instances" in " ".join(labels(n))), NET_TIMEOUT)
    tap.ok(series_row is not None, "C-FIND of its series: 24 instances")
    if series_row is None:
        return
    # DIMSE has no rendered resource: the row shows no thumbnail (and the app asks for none).
    tap.ok(not thumbnails_in(series_row), "over DIMSE the series row shows no thumbnail")
    press(button_in(dialog, "Open Series"))
    info = json.loads(subprocess.run([args.cli, "info", "--json", ct], check=True,
                                     capture_output=True, text=True).stdout)

    def titles():
        return [xdo("getwindowname", w).stdout.strip() for w in
                xdo("search", "--onlyvisible", "--pid", pid).stdout.split()]
    opened = wait_for(lambda: any(info["series_description"] in t for t in titles()),
                      NET_TIMEOUT)
    tap.ok(opened, "Open Series over DIMSE (C-GET) opens the series", str(titles()))
    cache, listing = cache_listing()
    dirs = [d for d in listing if d.startswith("series-")]
    src = {pydicom.dcmread(os.path.join(ct, f)).SOPInstanceUID: os.path.join(ct, f)
           for f in os.listdir(ct)}
    same = len(dirs) == 1 and not [d for d in listing if "part" in d]
    n = 0
    if dirs:
        for f in os.listdir(os.path.join(cache, dirs[0])):
            got = pydicom.dcmread(os.path.join(cache, dirs[0], f))
            want = pydicom.dcmread(src.get(got.SOPInstanceUID, ct))
            same = same and got.SOPInstanceUID in src and np.array_equal(got.pixel_array,
                                                                         want.pixel_array)
            n += 1
    tap.ok(not os.path.exists(os.path.join(cache, "series-" + "0" * 32)),
           "the cache limit of Preferences (64 MB) evicted the older 70 MB series", str(listing))
    tap.ok(same and n == len(src) == 24,
           "the C-GET cache holds the 24 slices, pixels equal pydicom's on the uploaded files",
           "%s %d" % (listing, n))
    got_info = json.loads(subprocess.run([args.cli, "info", "--json", os.path.join(cache, dirs[0])],
                                         capture_output=True, text=True).stdout or "null") \
        if dirs else None
    tap.ok(got_info == info, "info on the series the app opened equals info on the source")

    # Segment and send the mask as SEG over C-STORE.
    msg = send_mask(tap, app, SERVER)
    tap.ok("Sent 1 of 1 instances to %s" % PACS_AET in msg and "accepted" in msg,
           "the toast says the SEG was accepted, in one line", msg)
    segs = [s for s in orthanc.rest("/series")
            if orthanc.rest("/series/" + s)["MainDicomTags"].get("Modality") == "SEG"]
    tap.ok(len(segs) == 1, "Orthanc's REST API lists one SEG series", str(segs))
    if not segs:
        return
    inst = orthanc.rest("/series/%s/instances" % segs[0])
    path = os.path.join(tmp, "stored-seg.dcm")
    open(path, "wb").write(orthanc.rest("/instances/%s/file" % inst[0]["ID"]))
    ds = pydicom.dcmread(path)
    ct0 = pydicom.dcmread(next(iter(src.values())))
    refs = [r.SeriesInstanceUID for r in getattr(ds, "ReferencedSeriesSequence", [])]
    tap.ok(refs == [ct0.SeriesInstanceUID] and ds.StudyInstanceUID == ct0.StudyInstanceUID,
           "the SEG references the CT series it was drawn on, in its study", str(refs))
    frames = np.asarray(ds.pixel_array).reshape((-1, ds.Rows, ds.Columns))
    cts = {tuple(round(float(v), 3) for v in d.ImagePositionPatient): d for d in
           (pydicom.dcmread(p) for p in src.values())}
    ok = len(frames) == len(cts) == 24
    for k, fg in enumerate(ds.PerFrameFunctionalGroupsSequence):
        c = cts.get(tuple(round(float(v), 3)
                          for v in fg.PlanePositionSequence[0].ImagePositionPatient))
        if c is None:
            ok = False
            break
        hu = c.pixel_array * float(c.RescaleSlope) + float(c.RescaleIntercept)
        ok = ok and np.array_equal(frames[k].astype(bool), hu >= 3000)
    tap.ok(ok and frames.any(), "pydicom reads the SEG's 24 frames equal to HU >= 3000 of each "
           "uploaded slice (the app's mask of the retrieved series)")


def thumbnails_in(row):
    """The series row's thumbnail pictures that are laid out: (node, extents). (GTK 4.8 does
    not update AT-SPI's SHOWING state of a picture made visible later; a hidden one has no
    size.)"""
    out = []
    for n, _ in walk(row):
        if role(n) in ("image", "icon", "picture") and name(n).startswith("Thumbnail of"):
            e = safe(lambda: n.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
            if e is not None and e.width > 0 and e.height > 0:
                out.append((n, e))
    return out


def thumb_detail(row):
    return str([(role(n), name(n), safe(lambda: tuple(n.queryComponent().getExtents(
        pyatspi.WINDOW_COORDS)))) for n, _ in walk(row)])


def grey_pixels(png, box):
    """The grey values (0..255) of box (x, y, w, h) of png, through ImageMagick's PGM."""
    x, y, w, h = box
    p = subprocess.run(["convert", png, "-crop", "%dx%d+%d+%d" % (w, h, x, y), "+repage",
                        "-colorspace", "gray", "-depth", "8", "pgm:-"], capture_output=True)
    data = p.stdout
    # P5\nW H\n255\n then the bytes
    parts = data.split(b"\n", 3)
    return list(parts[3]) if len(parts) == 4 and parts[0] == b"P5" else []


def thumbnail_checks(tap, app, series_row, tmp):
    """The series row shows the server's rendered picture of the series (WADO-RS rendered),
    and that picture on screen has content: the phantom's slice, not a flat square."""
    if series_row is None:
        tap.skip("the series row shows a thumbnail", "no series row")
        return
    thumbs = wait_for(lambda: thumbnails_in(series_row), NET_TIMEOUT)
    if not tap.ok(bool(thumbs) and len(thumbs) == 1,
                  "the series row shows one thumbnail picture (accessible 'Thumbnail of …', "
                  "laid out with a size > 0)", thumb_detail(series_row)):
        return
    e = thumbs[0][1]
    w = xwindow(app.proc.pid, "Open from PACS")
    if w is None or not shutil.which("import"):
        tap.skip("the thumbnail on screen has content", "no X window or no ImageMagick")
        return
    time.sleep(0.3)  # the frame after the picture was set
    shot = os.path.join(tmp, "thumb-shot.png")
    subprocess.run(["import", "-window", w, shot], capture_output=True)
    shots = os.environ.get("MM_TEST_SHOTS")
    if shots:
        os.makedirs(shots, exist_ok=True)
        shutil.copy(shot, os.path.join(shots, "pacs-thumbnail.png"))
    # The middle of the picture, 8 pixels in from each side: AT-SPI's window coordinates and
    # the X window's differ by the client-side border (5 px seen here), so the full box
    # would take in the row's background; the middle lies within the picture either way.
    inset = 8
    box = (e.x + inset, e.y + inset, e.width - 2 * inset, e.height - 2 * inset)
    px = grey_pixels(shot, box)
    n = len(px)
    mean = sum(px) / n if n else 0
    sd = (sum((v - mean) ** 2 for v in px) / n) ** 0.5 if n else 0
    bright = sum(1 for v in px if v > 200)
    spread = max(px) - min(px) if px else 0
    # Orthanc renders the phantom dim (its own window): black air, a dark grey body and the
    # bright metal stem of a few pixels. A flat square would have sd 0.
    tap.ok(n == box[2] * box[3] and min(e.width, e.height) >= 32 and sd > 5
           and spread >= 128 and bright > 0 and len(set(px)) > 10,
           "the thumbnail on screen is not uniform: dark air, grey body, bright stem "
           "(%dx%d at %d,%d)" % (e.width, e.height, e.x, e.y),
           "%d pixels, sd %.1f, spread %d, bright %d, %d grey values" % (n, sd, spread, bright,
                                                                         len(set(px))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    tap = Tap()
    import orthanclib
    why = orthanclib.skip_reason()
    if why:
        print("1..0 # SKIP " + why)
        return 0
    tmp = tempfile.mkdtemp(prefix="mm-gui-pacs-")
    orthanc = orthanclib.Orthanc(tmp, auth=False,
                                 extra=orthanclib.dimse_config(OUR_AET, PACS_AET))
    app = None
    try:
        src = os.path.join(tmp, "phantom")
        subprocess.run([args.cli, "phantom", "--slices", "24", "--size", "128", src],
                       check=True, capture_output=True)
        ct = os.path.join(src, "ct")
        for f in sorted(os.listdir(ct)):
            orthanc.rest("/instances", open(os.path.join(ct, f), "rb").read())
        info = json.loads(subprocess.run([args.cli, "info", "--json", ct], check=True,
                                         capture_output=True, text=True).stdout)
        env = dict(os.environ, MM_PACS_URL=orthanc.url)
        app = App(args.app, [], env=env, logdir=tmp, tag="pacs")
        if not tap.ok(app.find_accessible() is not None and wait_for(app.frames, START_TIMEOUT),
                      "the app starts with its empty window"):
            return tap.done()
        time.sleep(0.5)
        main_win = xdo("search", "--sync", "--onlyvisible", "--pid", app.proc.pid).stdout.split()
        if main_win:
            xdo("mousemove", "--window", main_win[-1], "--sync", 200, 300)
            xdo("click", 1)
        xdo("key", "--clearmodifiers", "ctrl+shift+p")
        dialog = wait_for(lambda: find(app.acc, lambda n: role(n) == "frame"
                                       and name(n) == "Open from PACS"), UI_TIMEOUT)
        if not tap.ok(dialog is not None, "Ctrl+Shift+P opens 'Open from PACS'",
                      str([(role(c), name(c)) for c in children(app.acc)])):
            return tap.done()

        def button(label):
            # GTK 4.8 names a mnemonic button "_Label Label".
            return find(dialog, lambda n: role(n) == "push button"
                        and name(n).replace("_", "").endswith(label))

        fixed = set(labels(dialog))

        def status_text():
            # The status line: the dialog's labels that were not there when it opened.
            if dialog is None:
                return ""
            return " | ".join(t for t in labels(dialog) if t not in fixed and t)

        press(button("Test Connection"))
        ok = wait_for(lambda: "answers DICOMweb" in status_text(), NET_TIMEOUT)
        tap.ok(ok, "Test Connection: the server answers", status_text())

        press(button("Search"))
        study_row = wait_for(lambda: find(dialog, lambda n: role(n) in ("list item", "row", "list box row")
                                          and "Phantom^Metalmark" in " ".join(labels(n)) + name(n)),
                             NET_TIMEOUT)
        tap.ok(study_row is not None and "1 study found" in status_text(),
               "Search lists the phantom's study (Phantom^Metalmark) and says 1 study found",
               status_text() + " | " + " ".join(labels(dialog))[:300])
        shots = os.environ.get("MM_TEST_SHOTS")
        if study_row is not None:
            # As a person would: bring the row into view (focus scrolls it there), click it.
            safe(lambda: study_row.queryComponent().grabFocus())
            time.sleep(0.5)
            click(app.proc.pid, "Open from PACS", study_row)
        series_row = wait_for(lambda: find(dialog, lambda n: role(n) in ("list item", "row", "list box row")
                                           and "hip stem" in " ".join(labels(n)) + name(n)),
                              NET_TIMEOUT)
        tap.ok(series_row is not None and "24 instances" in " ".join(labels(series_row)),
               "clicking the study lists its series with 24 instances",
               " ".join(labels(dialog))[:400])
        thumbnail_checks(tap, app, series_row, tmp)
        if shots:
            os.makedirs(shots, exist_ok=True)
            w = xwindow(app.proc.pid, "Open from PACS")
            if w and shutil.which("import"):
                subprocess.run(["import", "-window", w, os.path.join(shots, "pacs-dialog.png")])
        opened = False
        if series_row is not None:
            press(button("Open Series"))
            want = info["series_description"]
            # The window title, read from X (not polled over AT-SPI while the window rebuilds).
            def titles():
                return [xdo("getwindowname", w).stdout.strip() for w in
                        xdo("search", "--onlyvisible", "--pid", app.proc.pid).stdout.split()]
            opened = wait_for(lambda: any(want in t for t in titles()), NET_TIMEOUT)
        tap.ok(opened, "Open Series retrieves the series and the window shows it (its title)",
               str(titles()) if series_row is not None else "no series row")
        cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                             "metalmark", "pacs")
        dirs = [d for d in os.listdir(cache) if d.startswith("series-")] if os.path.isdir(cache) else []
        tap.ok(len(dirs) == 1 and len(os.listdir(os.path.join(cache, dirs[0]))) == 24
               and not [d for d in os.listdir(cache) if ".partial-" in d],
               "the series is in the cache, 24 files, nothing partial", str(dirs))
        if dirs:
            got = json.loads(subprocess.run([args.cli, "info", "--json", os.path.join(cache, dirs[0])],
                                            capture_output=True, text=True).stdout or "null")
            tap.ok(got == info, "info on the cached series equals info on the source")
        tap.ok(wait_for(lambda: not [f for f in children(app.acc) if name(f) == "Open from PACS"
                                     and safe(lambda: f.getState().contains(pyatspi.STATE_SHOWING))],
                        UI_TIMEOUT), "the dialog is gone from the screen after opening")
        msg = send_mask(tap, app, "MM_PACS_URL")
        segs = [s for s in orthanc.rest("/series")
                if orthanc.rest("/series/" + s)["MainDicomTags"].get("Modality") == "SEG"]
        ref = None
        if segs:
            inst = orthanc.rest("/series/%s/instances" % segs[0])
            with open(os.path.join(tmp, "web-seg.dcm"), "wb") as f:
                f.write(orthanc.rest("/instances/%s/file" % inst[0]["ID"]))
            import pydicom
            ds = pydicom.dcmread(os.path.join(tmp, "web-seg.dcm"))
            ref = [r.SeriesInstanceUID for r in ds.ReferencedSeriesSequence]
        ct0 = __import__("pydicom").dcmread(os.path.join(ct, sorted(os.listdir(ct))[0]))
        tap.ok("Sent 1 of 1 instances to %s" % orthanc.url in msg and "accepted" in msg
               and len(segs) == 1 and ref == [ct0.SeriesInstanceUID],
               "Send Mask to PACS over STOW-RS: accepted (the toast), Orthanc holds the SEG "
               "referencing the CT series", "%s %s %s" % (msg, segs, ref))
        for sid in segs:  # the DIMSE part below counts its own SEG
            orthanc.rest("/series/" + sid, method="DELETE")
        finish(tap, app, "Open from PACS")
        app = None
        shutil.rmtree(cache, ignore_errors=True)
        app = servers_and_dimse(tap, args, tmp, orthanc, ct)

    finally:
        if app:
            finish(tap, app, "Open from PACS")
        orthanc.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
