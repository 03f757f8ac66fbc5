#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
""""Open from PACS…" (issue 15) as a person uses it, against a real Orthanc started here
(tests/pacs/test_pacs.py's, on loopback, without authentication: that is the CLI tests'):
Ctrl+Shift+P opens the dialog with the server of $MM_PACS_URL; Test Connection says the
server answers; Search lists the phantom's study; clicking it lists its series; Open Series
retrieves it into the cache ($XDG_CACHE_HOME/metalmark/pacs) and the window shows it, with
`metalmark-cli info` on the cached copy equals it on the source. Screenshots of the dialog are saved (MM_TEST_SHOTS) to be looked at.

Run through tests/gui/run-under-xvfb. TAP on stdout."""

import argparse
import json
import os
import shutil
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    tap = Tap()
    if shutil.which("Orthanc") is None:
        print("1..0 # SKIP Orthanc is not installed (Debian package orthanc)")
        return 0
    import test_pacs
    if test_pacs.dicomweb_plugin() is None:
        print("1..0 # SKIP the DICOMweb plugin is not installed (Debian package orthanc-dicomweb)")
        return 0
    tmp = tempfile.mkdtemp(prefix="mm-gui-pacs-")
    orthanc = test_pacs.Orthanc(tmp, auth=False)
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

    finally:
        if app:
            finish(tap, app, "Open from PACS")
        orthanc.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
