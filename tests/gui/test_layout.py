#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The window on a small screen (1024x700, under openbox), as a person meets it (issue 11,
bugs 4 and 6): focus and pointer through xdotool, what is shown read back through AT-SPI.

  a) the window fits the screen, its title names the series when the series has no
     description (folder – modality, orientation; never just "Series");
  b) moving the pointer over the image shows the value under it (the HU readout), and neither
     the view nor the slice slider moves or changes size when it appears; Ctrl+1 is 100 %;
  c) after Export (Ctrl+E, a folder typed into the chooser) a toast says where, and its
     "Open Folder" button, clicked, opens that folder with the desktop's default handler
     (a stand-in handler installed for inode/directory records what it was given);
  d) Preferences (Ctrl+,) offers the window/level a series opens with and the overlay;
  e) a folder with two series: the series picker lists both, and the one clicked and opened
     is the one shown (its description in the title);
  and the app prints no GLib/GTK warning (e.g. "GtkLabel reported min width -3").

Run through tests/gui/run-under-xvfb with MM_TEST_WM=openbox MM_TEST_SCREEN=1024x700x24.
TAP on stdout. Usage: test_layout.py --app APP --cli CLI
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmtest import Tap, children, find, name, role, safe, wait_for, walk  # noqa: E402

if shutil.which("xdotool") is None:
    print("1..0 # SKIP xdotool is not installed (xdotool): the pointer and keys are sent with it")
    sys.exit(0)
try:
    import pyatspi
    import pydicom
except ImportError as e:
    print(f"1..0 # SKIP {e.name} is not installed (python3-pyatspi python3-pydicom)")
    sys.exit(0)

from test_atspi import START_TIMEOUT, UI_TIMEOUT, App, finish, run_cli, view  # noqa: E402


def xdo(*args):
    return subprocess.run(["xdotool"] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=30)


def window_geometry(app):
    """Screen rectangle of the app's top-level X window, as the window manager placed it."""
    wins = xdo("search", "--sync", "--onlyvisible", "--pid", app.proc.pid).stdout.split()
    if not wins:
        return None
    kv = dict(line.split("=", 1) for line in xdo("getwindowgeometry", "--shell", wins[-1]).stdout.split()
              if "=" in line)
    return int(kv["X"]), int(kv["Y"]), int(kv["WIDTH"]), int(kv["HEIGHT"])


def extents(node):
    e = safe(lambda: node.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    if e is None or e.width <= 0 or e.height <= 0:
        return None
    return e.x, e.y, e.width, e.height


def click_at(app, node, dx=0.5, dy=0.5, button=1):
    g, e = window_geometry(app), extents(node)
    if g is None or e is None:
        return False
    xdo("mousemove", "--sync", int(g[0] + e[0] + e[2] * dx), int(g[1] + e[1] + e[3] * dy))
    time.sleep(0.1)
    xdo("click", button)
    return True


def description(node):
    """The texts shown over a view: its accessible description, and the names of any child
    labels (where the texts were before they were drawn inside the view)."""
    labels = [name(c) for c in children(node) if role(c) == "label"]
    return "\n".join([safe(lambda: node.description, "") or ""] + labels)


def phantom_without_description(cli, tmp):
    d = os.path.join(tmp, "phantom")
    run_cli(cli, "phantom", d, "--size", "128", "--slices", "40", "--noise", "20")
    ct = os.path.join(d, "ct")
    for f in sorted(os.listdir(ct)):
        p = os.path.join(ct, f)
        ds = pydicom.dcmread(p)
        if "SeriesDescription" in ds:
            del ds.SeriesDescription
        ds.save_as(p)
    return ct


def install_folder_handler(tmp):
    """A stand-in file manager: the default handler for folders writes the URI it was given."""
    marker = os.path.join(tmp, "opened.txt")
    script = os.path.join(tmp, "open-folder.sh")
    with open(script, "w") as f:
        f.write(f'#!/bin/sh\nprintf "%s\\n" "$1" > "{marker}"\n')
    os.chmod(script, 0o755)
    apps = os.path.join(os.environ["XDG_DATA_HOME"], "applications")
    os.makedirs(apps, exist_ok=True)
    with open(os.path.join(apps, "mm-test-folder.desktop"), "w") as f:
        f.write("[Desktop Entry]\nType=Application\nName=Test folder opener\n"
                f"Exec={script} %u\nMimeType=inode/directory;\nNoDisplay=true\n")
    os.makedirs(os.environ["XDG_CONFIG_HOME"], exist_ok=True)
    with open(os.path.join(os.environ["XDG_CONFIG_HOME"], "mimeapps.list"), "w") as f:
        f.write("[Default Applications]\ninode/directory=mm-test-folder.desktop\n")
    return marker


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    tap = Tap()
    screen = xdo("getdisplaygeometry").stdout.split()
    sw, sh = (int(screen[0]), int(screen[1])) if len(screen) == 2 else (0, 0)
    tap.note(f"screen {sw} x {sh}")
    with tempfile.TemporaryDirectory(prefix="mm-gui-layout-") as tmp:
        ct = phantom_without_description(args.cli, tmp)
        marker = install_folder_handler(tmp)
        app = App(args.app, ["--segment", ct], logdir=tmp, tag="layout")
        try:
            if not tap.ok(app.find_accessible() is not None
                          and wait_for(lambda: "Axial" in description(view(app, "Axial")), START_TIMEOUT),
                          "the app shows the phantom"):
                return tap.done()
            # a) fits the screen; the title
            time.sleep(0.5)  # let the window manager settle the frame
            g = window_geometry(app)
            tap.ok(g is not None and g[0] >= 0 and g[1] >= 0 and g[0] + g[2] <= sw and g[1] + g[3] <= sh,
                   f"a) the window fits the {sw} x {sh} screen", f"window {g}")
            frame = wait_for(lambda: app.frames()[0], UI_TIMEOUT)
            title = name(frame)
            want = "ct – CT, axial"
            tap.ok(title == want, f"a) the window title names a series without a description: {want!r}",
                   f"title {title!r}")

            # b) the HU readout appears without moving anything
            axial = view(app, "Axial")
            slider = find(app.acc, lambda n: role(n) == "slider" and name(n) == "Axial slice")
            before = (extents(axial), extents(slider))
            tap.note(f"axial view {before[0]}, slider {before[1]}")
            tap.ok(None not in before, "b) the axial view and the slice slider are on screen")
            gx, gy = g[0], g[1]
            e = before[0]
            xdo("mousemove", "--sync", gx + e[0] + e[2] // 2, gy + e[1] + e[3] // 2)
            shown = wait_for(lambda: " HU" in description(axial), UI_TIMEOUT)
            tap.ok(shown, "b) the pointer over the image shows the HU readout",
                   description(axial).replace("\n", " | "))
            time.sleep(0.5)  # a relayout, if any, has happened by now
            after = (extents(axial), extents(slider))
            tap.ok(after == before, "b) the view and the slider keep their place and size with the readout shown",
                   f"before {before}, after {after}")
            xdo("mousemove", "--sync", gx + e[0] + 8, gy + e[1] + e[3] // 2)  # to the left edge
            time.sleep(0.3)
            tap.ok((extents(axial), extents(slider)) == before,
                   "b) ... and with the pointer at the image's left edge",
                   f"{(extents(axial), extents(slider))}")

            # Ctrl+1: 100 %, one screen pixel per image pixel (RadiAnt's and Horos' meaning).
            zoom_before = [t for t in description(axial).split("\n") if t.startswith("Zoom")]
            xdo("key", "--clearmodifiers", "ctrl+1")
            z = wait_for(lambda: "Zoom 100 %" in description(axial).split("\n"), UI_TIMEOUT)
            tap.ok(z, "b) Ctrl+1 zooms to 100 % (1:1) from the fit", f"before {zoom_before}, after "
                   + str([t for t in description(axial).split("\n") if t.startswith("Zoom")]))

            # c) export: the toast and its Open Folder button
            out = os.path.join(tmp, "export")
            os.makedirs(out)
            click_at(app, axial, 0.5, 0.1)  # focus the window as a person would
            xdo("key", "--clearmodifiers", "ctrl+e")
            dialog = wait_for(lambda: find(app.acc, lambda n: name(n) == "Export the Mask into a Folder"),
                              3 * UI_TIMEOUT)  # the first file chooser takes a while to build
            tap.ok(dialog is not None, "c) Ctrl+E opens the export folder chooser",
                   "windows: " + str([(role(c), name(c)) for c in children(app.acc)]))
            toast = None
            if dialog is not None:
                time.sleep(0.5)
                xdo("type", "--delay", "20", out)
                time.sleep(0.5)
                accept = find(dialog, lambda n: role(n) == "push button" and name(n).replace("_", "") == "Export")
                if accept is not None:
                    safe(lambda: accept.queryAction().doAction(0))
                else:
                    tap.note("no Export button found in the chooser; pressing Return")
                    xdo("key", "Return")
                toast = wait_for(lambda: find(app.acc, lambda n: role(n) == "label"
                                              and name(n).startswith("Exported to " + out)), 60)
            tap.ok(toast is not None, "c) a toast says where the mask was exported",
                   name(toast) if toast is not None else "no toast")
            button = find(app.acc, lambda n: role(n) == "push button" and "Open Folder" in name(n))
            tap.ok(button is not None, "c) the toast offers 'Open Folder'",
                   "buttons: " + str([name(n) for n, _ in walk(app.acc) if "Open" in name(n)]))
            if button is not None:
                click_at(app, button)
                opened = wait_for(lambda: os.path.exists(marker) and open(marker).read().strip(), UI_TIMEOUT)
                # GIO hands a local folder to a %u handler as a path or as a file:// URI.
                got = opened[len("file://"):] if opened and opened.startswith("file://") else opened
                tap.ok(got == out, "c) clicking it opens the export folder with the default folder handler",
                       f"handler got {opened!r}, want {out!r}")
            tap.ok(all(os.path.exists(os.path.join(out, f)) for f in ("mask.nii.gz", "seg.dcm", "labels")),
                   "c) the folder holds the export", str(sorted(os.listdir(out))))

            # d) preferences
            click_at(app, axial, 0.5, 0.1)
            xdo("key", "--clearmodifiers", "ctrl+comma")
            prefs = wait_for(lambda: find(app.acc, lambda n: role(n) == "frame" and name(n) == "Preferences")
                             or find(app.acc, lambda n: name(n) == "Opening a Series"), UI_TIMEOUT)
            tap.ok(prefs is not None, "d) Ctrl+, opens the preferences")
            for row in ("Left button", "Window / level", "Colour", "Opacity", "Outline only"):
                tap.ok(find(app.acc, lambda n, row=row: name(n) == row) is not None,
                       f"d) the preferences offer {row!r}")
        finally:
            finish(tap, app, "layout")
            tap.ok("min width" not in app.output(), "no 'GtkLabel reported min width' on stderr",
                   "; ".join(ln for ln in app.output().splitlines() if "min width" in ln)[:300])
        scenario_picker(tap, args, ct, tmp)
    return tap.done()


def scenario_picker(tap, args, ct, tmp):
    """Two series in one folder: the first 40 slices as they are, and a copy of 10 of them as
    another series (new UIDs, its own description)."""
    both = os.path.join(tmp, "two-series")
    os.makedirs(both)
    files = sorted(os.listdir(ct))
    for f in files:
        shutil.copy(os.path.join(ct, f), os.path.join(both, f))
    uid = pydicom.uid.generate_uid()
    for n, f in enumerate(files[:10]):
        ds = pydicom.dcmread(os.path.join(ct, f))
        ds.SeriesInstanceUID = uid
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesDescription = "Second series"
        ds.save_as(os.path.join(both, f"second-{n:03d}.dcm"))
    app = App(args.app, [both], logdir=tmp, tag="picker")
    try:
        if not tap.ok(app.find_accessible() is not None, "e) the app starts on a folder with two series"):
            return
        picker = wait_for(lambda: find(app.acc, lambda n: name(n) == "Choose a Series"), START_TIMEOUT)
        tap.ok(picker is not None, "e) the series picker shows up")
        row = wait_for(lambda: find(app.acc, lambda n: "Second series" in name(n) and role(n) != "label"), UI_TIMEOUT)
        tap.ok(row is not None, "e) it lists the second series")
        if row is None:
            return
        click_at(app, row)
        time.sleep(0.3)
        button = find(picker, lambda n: role(n) == "push button"
                      and name(n).replace("_", "").split()[:1] == ["Open"] and "Series" not in name(n))
        tap.ok(button is not None, "e) it offers Open")
        if button is not None:
            click_at(app, button)
        frame = wait_for(lambda: next((f for f in app.frames() if "Second series" in name(f)), None), START_TIMEOUT)
        tap.ok(frame is not None, "e) the series clicked and opened is shown (title 'two-series – Second series')",
               f"alive {app.alive()} (status {app.proc.poll()}), "
               f"windows {[(role(c), name(c)) for c in children(app.acc)]}, output {app.output()[-400:]!r}")
        axial = view(app, "Axial")
        tap.ok(axial is not None and "/10 " in description(axial), "e) ... with its 10 slices",
               description(axial).replace("\n", " | ") if axial is not None else "no view")
    finally:
        finish(tap, app, "e)")


if __name__ == "__main__":
    sys.exit(main())
