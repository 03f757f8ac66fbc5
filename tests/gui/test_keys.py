#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The viewer's keys and the panel's fields as a person meets them, under a window manager
(openbox: run through run-under-xvfb with MM_TEST_WM=openbox). Focus is given only by
clicking with the pointer (xdotool), never through accessibility calls, and after every key
the test reads what the user sees (slice label, field value, views) through AT-SPI.

  a) click the image, then Right, Down, Left, Up, Page Down, End, Home: the slice follows;
  b) click "Copy as Text" (a button), then Down: the slice moves on, the focus does not;
  c) click the slice slider, then Page Down and Down: one slice forward each, as the
     shortcuts window says (GtkScale alone goes backwards, and 10 at a time for Page keys);
  d) the wheel over the Brush radius field while it is not focused scrolls the panel and
     leaves the value; with the field clicked, v switches the layout and types nothing into
     it, and Ctrl+Z undoes the mask (Segment Metal) instead of the field's text.
TAP on stdout. Usage: test_keys.py --app APP --cli CLI"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmtest import Tap, find, name, role, safe, wait_for, walk  # noqa: E402

try:
    import pyatspi
except ImportError:
    print("1..0 # SKIP pyatspi is not installed (python3-pyatspi, for /usr/bin/python3)")
    sys.exit(0)
if shutil.which("xdotool") is None:
    print("1..0 # SKIP xdotool is not installed (xdotool): keys and clicks are sent with it")
    sys.exit(0)

from test_atspi import START_TIMEOUT, UI_TIMEOUT, App, finish, slice_label, view  # noqa: E402


def xdo(*args):
    subprocess.run(["xdotool"] + [str(a) for a in args], check=True, timeout=30)


WINDOW_ORIGIN = {}


def window_origin(app):
    """Screen position of the app's top-level X window (GTK 4 reports only window
    coordinates to AT-SPI; the window manager placed the window)."""
    if app.proc.pid not in WINDOW_ORIGIN:
        wins = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(app.proc.pid)],
                              capture_output=True, text=True, timeout=30).stdout.split()
        geo = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wins[-1]],
                             capture_output=True, text=True, timeout=30).stdout
        kv = dict(line.split("=", 1) for line in geo.split() if "=" in line)
        WINDOW_ORIGIN[app.proc.pid] = (int(kv["X"]), int(kv["Y"]))
    return WINDOW_ORIGIN[app.proc.pid]


def extents(node):
    e = safe(lambda: node.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    if e is None or e.width <= 0 or e.height <= 0:
        return None
    return e.x, e.y, e.width, e.height


def centre(node):
    e = extents(node)
    if e is None:
        return None
    ox, oy = window_origin(APP[0])
    return ox + e[0] + e[2] // 2, oy + e[1] + e[3] // 2


def click(node, button=1, dx=0, dy=0):
    c = centre(node)
    if c is None:
        return False
    xdo("mousemove", "--sync", c[0] + dx, c[1] + dy)
    time.sleep(0.1)
    xdo("click", button)
    return True


def key(k):
    xdo("key", "--clearmodifiers", k)


def slice_index(app):
    m = slice_label(app)
    return int(m.group(2)) if m else None


def wait_slice(app, want):
    return wait_for(lambda: slice_index(app) == want, UI_TIMEOUT)


def focused_name(app):
    for n in (app.acc,):
        hit = find(n, lambda x: safe(lambda: x.getState().contains(pyatspi.STATE_FOCUSED), False))
        return (role(hit), name(hit)) if hit is not None else None


def by_name(app, text, want_role=None):
    return find(app.acc, lambda n: name(n) == text and (want_role is None or role(n) == want_role))


def spin_value(node):
    return safe(lambda: node.queryValue().currentValue)


def sensitive(node):
    return safe(lambda: node.getState().contains(pyatspi.STATE_SENSITIVE), False)


APP = [None]


def scroll_into_view(app, node, notches=40):
    """Turn the wheel over the side panel's margin (no field there) until node is inside the
    panel's visible part, as a person scrolls back to a field the panel scrolled past."""
    # The side panel: the tallest scroll pane right of the views.
    panes = [extents(n) for n, _ in walk(app.acc) if role(n) == "scroll pane"]
    panes = sorted((e for e in panes if e is not None and e[0] > 300), key=lambda e: -e[3])
    if not panes:
        return False
    px, py, pw, ph = panes[0]
    ox, oy = window_origin(app)
    xdo("mousemove", "--sync", ox + px + 9, oy + py + ph // 2)  # the margin, past the pane handle
    for _ in range(notches):
        e = extents(node)
        if e is not None and py + 10 <= e[1] and e[1] + e[3] <= py + ph - 10:
            return True
        xdo("click", 4 if e is None or e[1] < py + 10 else 5)
        time.sleep(0.1)
    return False


def scenario(tap, args, ct, n_slices, logdir):
    app = App(args.app, [ct], logdir=logdir, tag="keys")
    APP[0] = app
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT),
                      "the app shows the series (axial slice label)"):
            return
        axial = view(app, "Axial")
        # a) the image, clicked
        tap.ok(click(axial), "a) clicked the axial image")
        s = wait_for(lambda: slice_index(app), UI_TIMEOUT)
        tap.note(f"slice after the click: {s}/{n_slices}; focus on {focused_name(app)}")
        steps = [("Right", +1), ("Down", +1), ("Left", -1), ("Up", -1), ("Page_Down", +1),
                 ("Page_Up", -1)]
        for k, d in steps:
            before = slice_index(app)
            key(k)
            got = wait_slice(app, before + d)
            tap.ok(got, f"a) {k}: slice {before} -> {before + d}",
                   f"now {slice_index(app)}, focus on {focused_name(app)}")
        key("End")
        tap.ok(wait_slice(app, n_slices), f"a) End: slice {n_slices}", f"now {slice_index(app)}")
        key("Home")
        tap.ok(wait_slice(app, 1), "a) Home: slice 1", f"now {slice_index(app)}")
        key("Page_Down")
        key("Page_Down")
        wait_slice(app, 3)

        # b) a button clicked, then the slice keys
        copy = wait_for(lambda: find(app.acc, lambda n: "Copy as Text" in (name(n) or "").replace("_", "")
                                     and "button" in role(n)), UI_TIMEOUT)
        if tap.ok(copy is not None and click(copy), "b) clicked the Copy as Text button"):
            before = slice_index(app)
            key("Down")
            tap.ok(wait_slice(app, before + 1), f"b) Down with the button focused: slice {before} -> {before + 1}",
                   f"now {slice_index(app)}, focus on {focused_name(app)}")
            before = slice_index(app)
            key("Right")
            tap.ok(wait_slice(app, before + 1), f"b) Right with the button focused: slice {before} -> {before + 1}",
                   f"now {slice_index(app)}, focus on {focused_name(app)}")

        # c) the slider, clicked (which moves it where it was clicked), then the keys
        slider = find(app.acc, lambda n: role(n) == "slider")
        if tap.ok(slider is not None and click(slider), "c) clicked the slice slider"):
            time.sleep(0.3)
            for k in ("Page_Down", "Down", "Right"):
                before = slice_index(app)
                key(k)
                tap.ok(wait_slice(app, before + 1),
                       f"c) {k} with the slider focused: one slice forward ({before} -> {before + 1})",
                       f"now {slice_index(app)}")
            before = slice_index(app)
            key("Page_Up")
            tap.ok(wait_slice(app, before - 1), f"c) Page_Up with the slider focused: {before} -> {before - 1}",
                   f"now {slice_index(app)}")

        # d) the Brush radius field
        click(axial)
        key("b")
        radius = wait_for(lambda: by_name(app, "Brush radius (mm)", "spin button"), UI_TIMEOUT)
        if not tap.ok(radius is not None and centre(radius) is not None,
                      "d) b chose the Brush: its radius field is shown"):
            return
        v0 = spin_value(radius)
        # Scroll the panel to its end with the wheel over a heading, then turn the wheel with
        # the pointer on the field: the panel cannot scroll further, and a field that takes
        # the wheel without having the focus would change (how a person scrolling down the
        # panel changes a value without knowing it).
        # Over the panel's first heading, which is on screen whatever the window's height.
        heading = find(app.acc, lambda n: role(n) == "label" and name(n) == "Series")
        hc = centre(heading) if heading is not None else None
        if hc is not None:
            xdo("mousemove", "--sync", hc[0], hc[1])
            time.sleep(0.2)
            for _ in range(30):
                xdo("click", 5)
                time.sleep(0.05)
        time.sleep(0.3)
        fields = [n for n, _ in walk(app.acc) if role(n) == "spin button"
                  and centre(n) is not None and 60 <= centre(n)[1] < 780]
        field = fields[-1] if fields else None
        if tap.ok(field is not None, "d) a field of the panel is on screen after scrolling the panel to its end",
                  f"radius field now at {extents(radius)}"):
            f0, c = spin_value(field), centre(field)
            xdo("mousemove", "--sync", c[0], c[1])
            time.sleep(0.2)
            xdo("click", 4)  # one notch up: the panel can scroll back up, the value could rise
            time.sleep(0.5)
            tap.ok(spin_value(field) == f0, f"d) the wheel on the unfocused field {name(field)!r} leaves its value",
                   f"{f0} -> {spin_value(field)}")

        key("ctrl+m")  # Segment Metal: a mask, one undo step
        undo = wait_for(lambda: by_name(app, "Undo"), UI_TIMEOUT)
        redo = by_name(app, "Redo")
        tap.ok(undo is not None and wait_for(lambda: sensitive(undo), 30),
               "d) Ctrl+M (Segment Metal) makes a step to undo")
        radius = by_name(app, "Brush radius (mm)", "spin button")
        scroll_into_view(app, radius)
        tap.ok(click(radius), "d) clicked into the radius field")
        time.sleep(0.3)
        w_before = extents(axial)
        key("v")
        changed = wait_for(lambda: extents(view(app, "Axial")) != w_before, UI_TIMEOUT)
        tap.ok(changed, "d) v with the radius field focused switches the layout (the axial view changes size)",
               f"axial view {w_before} -> {extents(view(app, 'Axial'))}")
        key("ctrl+z")
        tap.ok(redo is not None and wait_for(lambda: sensitive(redo), UI_TIMEOUT),
               "d) then Ctrl+Z in the field undoes the mask (Redo becomes possible)")
        key("Tab")  # the field gives up the focus and takes what was typed into it
        time.sleep(0.3)
        tap.ok(spin_value(radius) == v0, "d) ... and the field's value is as it was (after Tab)",
               f"{v0} -> {spin_value(radius)}")
        tap.ok(app.alive(), "the app is still running")
    finally:
        finish(tap, app, "keys")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix="mm-keys-")
    try:
        subprocess.run([args.cli, "phantom", tmp, "--size", "128", "--slices", "40"], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
        scenario(tap, args, os.path.join(tmp, "ct"), 40, tmp)
    finally:
        logs = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".log")]
        for p in logs if tap.failed else []:
            Tap.note(f"--- {os.path.basename(p)}")
            Tap.note(open(p, errors="replace").read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
