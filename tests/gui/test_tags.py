#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The series browser and the DICOM tags browser (issue 13) as a person meets them, under
openbox: pointer and keys through xdotool, what is shown read back through AT-SPI and a
screenshot.

  a) a folder holding 3 phantom series (two patients) and a scout: the browser (a wide
     window) lists 4 series under 2 patient and 2 study headers, with their descriptions and
     slice counts; the first CT series is selected, not the scout;
  b) every thumbnail arrives, and each looks like an independent numpy rendering of its
     series' middle slice with the file's window (loose tolerance: the thumbnail is scaled);
  c) a double-click on a thumbnail opens that series (window title, slice count); Ctrl+B
     brings the browser back without scanning again, and another thumbnail switches series;
  d) Ctrl+T opens the tags browser on the slice shown: searched by keyword, value and tag
     number, the values shown equal pydicom's for that file (a string, a sequence item's UID,
     a private tag named from GDCM's dictionary);
  e) pydicom's DICOMDIR test set (13 series, 2 patients, 6 studies): every series' tile, each
     patient's and study's header as pydicom reads the DICOMDIR; the arrow keys walk all 13
     tiles, each selected one shown inside the scrolled area; Enter on "Routine Brain" opens it
     with as many slices as the DICOMDIR lists; the browser's size, changed, is kept when
     Ctrl+B opens it again.

Run through tests/gui/run-under-xvfb with MM_TEST_WM=openbox. TAP on stdout.
Usage: test_tags.py --app APP --cli CLI
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmtest import Tap, children, find, name, role, safe, wait_for, walk as walk_up  # noqa: E402

if shutil.which("xdotool") is None or shutil.which("import") is None:
    print("1..0 # SKIP xdotool or ImageMagick's import is not installed (xdotool imagemagick)")
    sys.exit(0)
try:
    import numpy as np
    import pyatspi
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
except ImportError as e:
    print(f"1..0 # SKIP {e.name} is not installed (python3-pyatspi python3-pydicom python3-numpy)")
    sys.exit(0)

from test_atspi import START_TIMEOUT, UI_TIMEOUT, App, finish, run_cli  # noqa: E402

THUMB = 128  # the browser's thumbnail size (mm-series-picker.c)
DICOMDIR = "/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests/DICOMDIR"
TILE_ROLES = ("table cell", "grid cell", "list item", "list box item", "row")


def walk(node, max_nodes=20000):
    """Every node under node (mmtest.walk without the ancestors)."""
    return (n for n, _ in walk_up(node, max_nodes))


def xdo(*args):
    return subprocess.run(["xdotool"] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=30)


def toplevel(node):
    """The window (frame, dialog...) a node lies in: the last ancestor below the app."""
    chain = []
    n = node
    while n is not None and role(n) != "application":
        chain.append(n)
        n = safe(lambda n=n: n.parent)
    return chain[-1] if chain else None


def x_window_origin(app, top):
    """Screen position of top (an accessible window): among the app's visible X windows, the
    one of top's size, give or take a shadow margin (GTK 4 reports no screen coordinates)."""
    e = safe(lambda: top.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    if e is None:
        return None
    if os.environ.get("MM_TEST_DEBUG"):
        Tap.note(f"top {role(top)} {name(top)!r} {e.x},{e.y} {e.width}x{e.height}")
        for win in xdo("search", "--onlyvisible", "--pid", app.proc.pid).stdout.split():
            Tap.note(xdo("getwindowgeometry", "--shell", win).stdout.replace("\n", " "))
    for win in xdo("search", "--onlyvisible", "--pid", app.proc.pid).stdout.split():
        kv = dict(line.split("=", 1) for line in
                  xdo("getwindowgeometry", "--shell", win).stdout.split() if "=" in line)
        if "WIDTH" not in kv:
            continue
        # The X window may include the client-side shadow's margin around the dialog.
        dw, dh = int(kv["WIDTH"]) - e.width, int(kv["HEIGHT"]) - e.height
        if dw == dh and 0 <= dw <= 128 and dw % 2 == 0:
            return int(kv["X"]) + dw // 2, int(kv["Y"]) + dh // 2
    return None


def screen_extents(app, node):
    e = safe(lambda: node.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    if e is None or e.width <= 0 or e.height <= 0:
        return None
    o = x_window_origin(app, toplevel(node))
    if o is None:
        return None
    return o[0] + e.x, o[1] + e.y, e.width, e.height


def click(app, node):
    e = screen_extents(app, node)
    if e is None:
        return False
    xdo("mousemove", "--sync", int(e[0] + e[2] / 2), int(e[1] + e[3] / 2))
    time.sleep(0.1)
    xdo("click", 1)
    return True


def key(k):
    xdo("key", "--clearmodifiers", k)


def double_click(app, node):
    e = screen_extents(app, node)
    if e is None:
        return False
    xdo("mousemove", "--sync", int(e[0] + e[2] / 2), int(e[1] + e[3] / 2))
    time.sleep(0.1)
    xdo("click", "--repeat", 2, "--delay", 80, 1)
    return True


# ---------------------------------------------------------------- the folder

SERIES = [  # description, slices, patient
    ("Alpha abdomen", 12, "Doe^Anna"),
    ("Beta thin", 8, "Doe^Anna"),
    ("Gamma knee", 6, "Roe^Ben"),
]


def make_folder(cli, tmp):
    """3 phantom series (the first two of one patient and study, the third of another) and a
    scout of 2 slices (Image Type LOCALIZER) in the first study; the third series' files carry
    a sequence and private tags for the tags browser."""
    src = os.path.join(tmp, "phantom")
    run_cli(cli, "phantom", src, "--size", "64", "--slices", "12", "--noise", "10")
    ct = os.path.join(src, "ct")
    files = sorted(f for f in os.listdir(ct) if f.endswith(".dcm"))
    folder = os.path.join(tmp, "several")
    os.makedirs(folder)
    study = {"Doe^Anna": pydicom.uid.generate_uid(), "Roe^Ben": pydicom.uid.generate_uid()}
    plan = SERIES + [("Scout", 2, "Doe^Anna")]
    for s, (desc, n, patient) in enumerate(plan):
        uid = pydicom.uid.generate_uid()
        for k, f in enumerate(files[:n]):
            ds = pydicom.dcmread(os.path.join(ct, f))
            ds.SeriesInstanceUID = uid
            ds.SeriesNumber = s + 1
            ds.SeriesDescription = desc
            ds.PatientName = patient
            ds.PatientID = patient.split("^")[1].upper()
            ds.StudyInstanceUID = study[patient]
            ds.StudyDescription = "Study of " + patient.split("^")[1]
            ds.StudyDate = "20260102" if patient == "Doe^Anna" else "20251130"
            ds.SOPInstanceUID = pydicom.uid.generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            if desc == "Scout":
                ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
            # each series its own look: a different window, so thumbnails differ
            ds.WindowCenter = [40, 200, -300, 0][s]
            ds.WindowWidth = [400, 1500, 1200, 2000][s]
            if desc.startswith("Gamma"):
                item = Dataset()
                item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
                item.ReferencedSOPInstanceUID = "1.2.3.4.5.%d" % k
                ds.ReferencedImageSequence = Sequence([item])
                block = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
                block.add_new(0x08, "CS", "IMAGE NUM 4")
            ds.save_as(os.path.join(folder, "s%d-%03d.dcm" % (s, k)))
    return folder


def middle_file(folder, desc):
    """The file at the middle position along the normal, as the browser picks it."""
    dss = []
    for f in sorted(os.listdir(folder)):
        ds = pydicom.dcmread(os.path.join(folder, f))
        if ds.SeriesDescription == desc:
            dss.append((float(ds.ImagePositionPatient[2]), os.path.join(folder, f)))
    dss.sort()
    return dss[len(dss) // 2][1]


def reference_thumbnail(path, size):
    """An independent rendering: pydicom's pixels, rescaled, the file's linear window
    (PS3.3 C.11.2.1.2.1), fitted into size x size with nearest-neighbour sampling."""
    ds = pydicom.dcmread(path)
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    c, w = float(ds.WindowCenter), float(ds.WindowWidth)
    y = ((hu - (c - 0.5)) / (w - 1) + 0.5) * 255
    y = np.clip(y, 0, 255)
    y[hu <= c - 0.5 - (w - 1) / 2] = 0
    y[hu > c - 0.5 + (w - 1) / 2] = 255
    rows, cols = y.shape
    idx_r = np.minimum(((np.arange(size) + 0.5) * rows / size).astype(int), rows - 1)
    idx_c = np.minimum(((np.arange(size) + 0.5) * cols / size).astype(int), cols - 1)
    return y[np.ix_(idx_r, idx_c)]


def screenshot(path):
    subprocess.run(["import", "-window", "root", path], check=True, timeout=60)
    out = subprocess.run(["convert", path, "-colorspace", "Gray", "-depth", "8", "gray:-"],
                         capture_output=True, check=True, timeout=60).stdout
    geo = subprocess.run(["identify", "-format", "%w %h", path], capture_output=True,
                         text=True, check=True).stdout.split()
    w, h = int(geo[0]), int(geo[1])
    return np.frombuffer(out, dtype=np.uint8).reshape(h, w).astype(np.float64)


# ---------------------------------------------------------------- helpers on the tree

def showing(node):
    return bool(safe(lambda: node.getState().contains(pyatspi.STATE_SHOWING), False))


def picker(app):
    """The series browser on screen (not one closed before, still in the bus's cache)."""
    dlgs = [c for c in children(app.acc) if name(c) == "Choose a Series"]
    if os.environ.get("MM_TEST_DEBUG"):
        Tap.note(f"{len(dlgs)} browsers: {[safe(lambda c=c: c.getState().getStates()) for c in dlgs]}")
    return dlgs[-1] if dlgs else None


def shown_picker(app):
    """The series browser that is on screen now (closed ones may linger in the bus's cache)."""
    def on_screen(c):
        e = extents_of(c)
        return e is not None and e.width > 0 and e.height > 0
    return next((c for c in reversed(list(children(app.acc))) if name(c) == "Choose a Series"
                 and on_screen(c)), None)


def texts(node, max_nodes=20000):
    return [name(n) for n in walk(node, max_nodes) if role(n) == "label"]


def title_of(app):
    frames = [f for f in app.frames() if " – " in name(f)]
    return name(frames[0]) if frames else ""


def thumbnails(root):
    return [n for n in walk(root) if name(n).startswith("Thumbnail of ")]


def selected_tiles(root):
    return [n for n in walk(root) if role(n) in TILE_ROLES
            and safe(lambda n=n: n.getState().contains(pyatspi.STATE_SELECTED))]


# ---------------------------------------------------------------- scenarios

def scenario_browser(tap, app, folder, tmp):
    dlg = wait_for(lambda: picker(app), START_TIMEOUT)
    if not tap.ok(dlg is not None, "a) the series browser shows up"):
        return False
    want_rows = {d: n for d, n, _ in SERIES}
    want_rows["Scout"] = 2
    found = wait_for(lambda: all(any(name(n) == d for n in walk(dlg)) for d in want_rows)
                     and dlg, UI_TIMEOUT)
    all_text = texts(dlg)
    tap.ok(found, "a) it lists the 3 series and the scout by description",
           " | ".join(all_text[:40]))
    counts_ok = all(any(t.startswith("CT · %d slices" % n) for t in all_text)
                    for n in want_rows.values())
    tap.ok(counts_ok, "a) each with its slice count (12, 8, 6, 2)", " | ".join(all_text[:40]))
    headers = [t for t in all_text if t.startswith("Doe Anna") or t.startswith("Roe Ben")
               or t.startswith("Study of ")]
    tap.ok(sorted(headers) == ["Doe Anna (ANNA)", "Roe Ben (BEN)", "Study of Anna, 2026-01-02",
                               "Study of Ben, 2025-11-30"],
           "a) grouped under 2 patient headers and 2 study headers with the study date",
           repr(headers))
    e = safe(lambda: dlg.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    tap.ok(e is not None and e.width >= 900 and e.height >= 500,
           "a) the browser is a wide window (at least 900 x 500)",
           f"{e.width}x{e.height}" if e else "no extents")
    tap.ok(any(t == "Scout" for t in all_text if t != "Scout") or all_text.count("Scout") >= 2,
           "a) the scout is marked as one", " | ".join(all_text[:40]))
    sel = selected_tiles(dlg)
    sel_names = [" ".join(texts(n)) for n in sel]
    tap.ok(len(sel) == 1 and "Alpha abdomen" in sel_names[0],
           "a) the largest CT series is preselected, not the scout", repr(sel_names))

    # b) thumbnails
    done = wait_for(lambda: (lambda th: len(th) == 4 and not any(
        "(loading)" in name(t) or "not readable" in name(t) for t in th))(thumbnails(dlg)),
        UI_TIMEOUT)
    tap.ok(done, "b) the 4 thumbnails arrive", repr([name(t) for t in thumbnails(dlg)]))
    time.sleep(0.5)  # one frame to paint them
    scroller = find(dlg, lambda n: role(n) == "scroll pane")
    shot_path = os.path.join(tmp, "browser.png")
    shot = screenshot(shot_path)
    keep = os.environ.get("MM_TEST_KEEP_SHOTS")
    if keep:
        shutil.copy(shot_path, os.path.join(keep, "series-browser.png"))
    for t in thumbnails(dlg):
        desc = name(t)[len("Thumbnail of "):]
        e = screen_extents(app, t)
        if e is None:
            tap.ok(False, f"b) thumbnail of {desc} on screen")
            continue
        x, y, w, h = e
        ref = reference_thumbnail(middle_file(folder, desc), THUMB)
        if (w, h) != (THUMB, THUMB):
            tap.ok(False, f"b) thumbnail of {desc} is {THUMB}x{THUMB} on screen", f"{w}x{h}")
            continue
        # Only the part the scrolled list shows (a row may be half scrolled out).
        sx, sy, sw, sh = screen_extents(app, scroller) if scroller is not None else e
        top, bottom = max(y, sy), min(y + h, sy + sh)
        if bottom - top < 16:
            tap.ok(True, f"b) thumbnail of {desc}: scrolled out of view, not compared")
            continue
        got = shot[top:bottom, x:x + w]
        ref = ref[top - y:bottom - y, :]
        mad = float(np.mean(np.abs(got - ref)))
        corr = (float(np.corrcoef(got.ravel(), ref.ravel())[0, 1])
                if ref.std() > 0 and got.std() > 0 else float(np.array_equal(got, ref)))
        tap.ok(mad < 12 and corr > 0.9,
               f"b) thumbnail of {desc} looks like its middle slice with its window "
               f"(mean |diff| {mad:.1f} < 12 grey levels, correlation {corr:.3f} > 0.9, "
               f"{bottom - top} rows visible)")

    # c) a thumbnail click opens its series
    gamma = next((t for t in thumbnails(dlg) if "Gamma knee" in name(t)), None)
    tap.ok(gamma is not None and double_click(app, gamma),
           "c) the Gamma knee thumbnail is double-clicked")
    ok = wait_for(lambda: "Gamma knee" in title_of(app), START_TIMEOUT)
    tap.ok(ok, "c) ... and Gamma knee is shown (window title)", title_of(app))
    ok = wait_for(lambda: any("/6 " in (safe(lambda n=n: n.description, "") or "")
                              for n in walk(app.acc) if role(n) == "image"), UI_TIMEOUT)
    tap.ok(ok, "c) ... with its 6 slices")
    key("ctrl+b")
    dlg = wait_for(lambda: picker(app), UI_TIMEOUT)
    tap.ok(dlg is not None, "c) Ctrl+B brings the browser back")
    if dlg is None:
        return True
    beta = wait_for(lambda: next((t for t in thumbnails(dlg) if "Beta thin" in name(t)
                                  and "(loading)" not in name(t)), None), UI_TIMEOUT)
    sel = [" ".join(texts(n)) for n in selected_tiles(dlg)]
    tap.ok(len(sel) == 1 and "Gamma knee" in sel[0], "c) ... with the series shown selected",
           repr(sel))
    tap.ok(beta is not None and double_click(app, beta),
           "c) the Beta thin thumbnail is double-clicked")
    ok = wait_for(lambda: "Beta thin" in title_of(app), START_TIMEOUT)
    tap.ok(ok, "c) ... and Beta thin is shown", title_of(app))
    return True


def tags_frame(app):
    return next((f for f in children(app.acc) if name(f) == "DICOM Tags"), None)


def search_and_read(app, frame, query):
    """Type query into the tags search and return the labels shown."""
    entry = find(frame, lambda n: role(n) in ("entry", "text") and name(n) == "Search tags")
    if entry is not None:
        click(app, entry)
    key("ctrl+a")
    key("BackSpace")
    xdo("type", "--delay", "30", query)
    time.sleep(0.8)
    return texts(frame)


CLIPBOARD_READER = """
import sys
import gi
gi.require_version("Gtk", "4.0")
from gi.repository import Gdk, GLib, Gtk
Gtk.init()
loop, out = GLib.MainLoop(), []
def done(cb, res):
    try:
        out.append(cb.read_text_finish(res) or "")
    except Exception as e:
        out.append("<error %s>" % e)
    loop.quit()
Gdk.Display.get_default().get_clipboard().read_text_async(None, done)
GLib.timeout_add_seconds(10, loop.quit)
loop.run()
sys.stdout.write(out[0] if out else "<timeout>")
"""


def find_button(root, text):
    """A button by its text: the button, else its label (GTK 4.8 names some buttons only
    through their label child); clicking either presses it."""
    return (find(root, lambda n: role(n) in ("push button", "button")
                 and name(n).replace("_", "") == text)
            or find(root, lambda n: role(n) == "label" and name(n) == text))


def clipboard_text():
    """The clipboard's text, read by another GTK client (python3-gi's GTK 4)."""
    p = subprocess.run(["/usr/bin/python3", "-c", CLIPBOARD_READER], capture_output=True,
                       text=True, timeout=60)
    return p.stdout if p.returncode == 0 else None


def scenario_tags(tap, app, folder):
    # Open Gamma knee again through the browser, then the tags window on its slice.
    key("ctrl+b")
    dlg = wait_for(lambda: picker(app), UI_TIMEOUT)
    gamma = dlg and wait_for(lambda: next((t for t in thumbnails(dlg) if "Gamma knee" in name(t)),
                                          None), UI_TIMEOUT)
    if not tap.ok(gamma is not None and double_click(app, gamma)
                  and wait_for(lambda: "Gamma knee" in title_of(app), START_TIMEOUT),
                  "d) Gamma knee (with a sequence and private tags) is shown"):
        return
    main = next(f for f in app.frames() if "Gamma knee" in name(f))
    click(app, find(main, lambda n: role(n) == "image" and name(n) == "Axial view"))
    key("ctrl+t")
    frame = wait_for(lambda: tags_frame(app), UI_TIMEOUT)
    if frame is None and os.environ.get("MM_TEST_KEEP_SHOTS"):
        subprocess.run(["import", "-window", "root",
                        os.path.join(os.environ["MM_TEST_KEEP_SHOTS"], "ctrl-t-failed.png")])
        shutil.copy(app.log_path, os.path.join(os.environ["MM_TEST_KEEP_SHOTS"], "app.log"))
    if not tap.ok(frame is not None, "d) Ctrl+T opens the DICOM Tags window",
                  repr([(role(c), name(c)) for c in children(app.acc)])):
        return
    # The file it names is the slice shown.
    sub = wait_for(lambda: next((t for t in texts(frame) if t.startswith("Slice ")), None),
                   UI_TIMEOUT)
    base = sub.split(" · ")[-1] if sub else ""
    path = os.path.join(folder, base)
    tap.ok(sub is not None and os.path.exists(path) and base.startswith("s2-"),
           "d) it names the slice shown and its file", repr(sub))
    if not os.path.exists(path):
        return
    ds = pydicom.dcmread(path)
    axial = find(main, lambda n: role(n) == "image" and name(n) == "Axial view")
    desc = safe(lambda: axial.description, "") or ""
    pos = [line.split(" · ")[-1] for line in desc.split("\n") if line.startswith("Axial ")]
    z = float(pos[0].split()[0]) if pos else None
    tap.ok(z is not None and abs(z - float(ds.ImagePositionPatient[2])) < 0.05,
           f"d) that file is the slice the axial view shows (z {z} mm)", desc)
    # A keyword
    shown = search_and_read(app, frame, "ImagePositionPatient")
    want = "\\".join(str(v) for v in ds.ImagePositionPatient)
    tap.ok("(0020,0032)" in shown and want in shown,
           f"d) search ImagePositionPatient: (0020,0032) = {want} as pydicom reads it",
           " | ".join(shown[:30]))
    shown = search_and_read(app, frame, "PatientName")
    tap.ok(str(ds.PatientName) in shown, f"d) PatientName = {ds.PatientName} as pydicom",
           " | ".join(shown[:30]))
    # Copy Value (the row found is selected) and Copy All, read back by another client.
    button = find_button(frame, "Copy Value")
    if clipboard_text() is None:
        tap.skip("d) Copy Value and Copy All reach the clipboard",
                 "python3-gi with GTK 4 cannot read the clipboard here")
    elif tap.ok(button is not None and click(app, button), "d) Copy Value is clicked"):
        got = wait_for(lambda: clipboard_text() == str(ds.PatientName), UI_TIMEOUT)
        tap.ok(got, f"d) ... the clipboard holds {ds.PatientName}", repr(clipboard_text()))
        button = find_button(frame, "Copy All")
        click(app, button)
        want = f"(0010,0010) PN PatientName  {ds.PatientName}"
        got = wait_for(lambda: want in (clipboard_text() or ""), UI_TIMEOUT)
        text = clipboard_text() or ""
        tap.ok(got and "(0008,1155) UI ReferencedSOPInstanceUID" in text
               and "(7FE0,0010) OW PixelData" in text,
               "d) Copy All: the whole dump, sequence items and Pixel Data's summary included",
               text[:600])
    # A value inside a sequence: found by value, its sequence and item shown expanded.
    uid = ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID
    shown = search_and_read(app, frame, uid)
    tap.ok(uid in shown and "ReferencedImageSequence" in shown and "Item 1" in shown
           and "(0008,1155)" in shown,
           f"d) search by value {uid}: the sequence, its item and the UID as pydicom",
           " | ".join(shown[:30]))
    # A private tag by number: named from GDCM's private dictionary.
    shown = search_and_read(app, frame, "0029,1008")
    tap.ok("CSA Image Header Type [SIEMENS CSA HEADER]" in shown
           and str(ds[0x00291008].value) in shown,
           "d) private (0029,1008): 'CSA Image Header Type [SIEMENS CSA HEADER]' = "
           f"{ds[0x00291008].value}", " | ".join(shown[:30]))
    shot = os.environ.get("MM_TEST_KEEP_SHOTS")
    if shot:
        search_and_read(app, frame, "uid")
        subprocess.run(["import", "-window", "root", os.path.join(shot, "dicom-tags.png")],
                       timeout=60)


def dicomdir_truth():
    """Per patient, per study, per series, as pydicom reads the DICOMDIR (and the first image
    file of each series for its description and image type): the headers and the tiles'
    accessible names the browser must show, and each series' image count."""
    ds = pydicom.dcmread(DICOMDIR)
    root = os.path.dirname(DICOMDIR)
    headers, tiles, counts = [], [], {}
    for pat in ds.patient_records:
        headers.append(f"{str(pat.PatientName).replace('^', ' ').strip()} ({pat.PatientID})")
        for st in pat.children:
            date = str(st.StudyDate)
            desc = str(getattr(st, "StudyDescription", "") or "") or "Study"
            headers.append(f"{desc}, {date[:4]}-{date[4:6]}-{date[6:]}")
            for se in st.children:
                imgs = [r for r in se.children if r.DirectoryRecordType == "IMAGE"]
                f = pydicom.dcmread(os.path.join(root, *imgs[0].ReferencedFileID),
                                    stop_before_pixels=True)
                sd = str(f.SeriesDescription)
                n = len(imgs)
                t = f"{sd}, {se.Modality} · {n} slice{'' if n == 1 else 's'}"
                if "LOCALIZER" in list(f.ImageType) or "localizer" in sd.lower():
                    t += ", Scout"
                tiles.append(t)
                counts[sd] = n
    return headers, tiles, counts


def all_tiles(root):
    return [n for n in walk(root) if role(n) in TILE_ROLES and " slice" in name(n)]


def inside(inner, outer):
    return (inner is not None and outer is not None and inner.x >= outer.x - 1
            and inner.y >= outer.y - 1 and inner.x + inner.width <= outer.x + outer.width + 1
            and inner.y + inner.height <= outer.y + outer.height + 1)


def extents_of(node):
    return safe(lambda: node.queryComponent().getExtents(pyatspi.WINDOW_COORDS))


def scenario_dicomdir(tap, app):
    from collections import Counter
    headers, want, counts = dicomdir_truth()
    dlg = wait_for(lambda: picker(app), START_TIMEOUT)
    if not tap.ok(dlg is not None, "e) DICOMDIR: the series browser shows up"):
        return
    got = wait_for(lambda: (lambda t: t if len(t) == len(want) else None)(
        [name(n) for n in all_tiles(dlg)]), UI_TIMEOUT) or [name(n) for n in all_tiles(dlg)]
    tap.ok(Counter(got) == Counter(want),
           f"e) all {len(want)} series of the DICOMDIR have a tile named with description, "
           "modality, slice count (scouts marked) as pydicom reads them",
           f"missing {list((Counter(want) - Counter(got)).elements())}, "
           f"extra {list((Counter(got) - Counter(want)).elements())}")
    shown = texts(dlg)
    missing = [h for h in headers if h not in shown]
    tap.ok(not missing, f"e) the {len(headers)} patient and study headers as pydicom reads them",
           f"missing {missing}")
    done = wait_for(lambda: (lambda th: len(th) == len(want) and not any(
        "(loading)" in name(t) or "not readable" in name(t) for t in th))(thumbnails(dlg)),
        UI_TIMEOUT)
    tap.ok(done, f"e) the {len(want)} thumbnails arrive, each named",
           repr([name(t) for t in thumbnails(dlg)]))
    sel = selected_tiles(dlg)
    tap.ok(len(sel) == 1 and "Scout" not in name(sel[0]) and " CT " in " " + name(sel[0]),
           "e) a CT series is preselected, not a scout", repr([name(n) for n in sel]))
    # The arrow keys walk every tile (on to the next study's grid past a grid's end), and
    # the scrolled area follows the selection.
    scroller = find(dlg, lambda n: role(n) == "scroll pane")

    def where(n):
        """A tile's identity: two series may share a description (4 FAST LOCALIZERs)."""
        e = extents_of(n)
        return (name(n), e.x, e.y) if e is not None else (name(n),)

    visited, unseen = [name(sel[0])] if sel else [], []
    prev = where(sel[0]) if sel else ()
    for _ in range(len(want) - 1):
        key("Right")
        cur = wait_for(lambda: (lambda s: s[0] if len(s) == 1 and where(s[0]) != prev else None)(
            selected_tiles(dlg)), UI_TIMEOUT)
        if cur is None:
            break
        time.sleep(0.3)  # the scroll's animation
        prev = where(cur)
        visited.append(name(cur))
        if not inside(extents_of(cur), extents_of(scroller)):
            unseen.append(prev)
    tap.ok(Counter(visited) == Counter(want),
           f"e) Right, {len(want) - 1} times, selects each of the {len(want)} series in turn",
           f"visited {visited}")
    tap.ok(not unseen and len(visited) == len(want),
           "e) ... each selected tile shown inside the scrolled area", f"not shown: {unseen}")
    for _ in range(len(want)):
        s = selected_tiles(dlg)
        if s and name(s[0]).startswith("Routine Brain,"):
            break
        prev = where(s[0]) if s else ()
        key("Left")
        wait_for(lambda: (lambda s: len(s) == 1 and where(s[0]) != prev)(selected_tiles(dlg)),
                 UI_TIMEOUT)
    s = selected_tiles(dlg)
    if not tap.ok(s and name(s[0]).startswith("Routine Brain,"),
                  "e) Left walks back to Routine Brain", repr([name(n) for n in s])):
        return
    key("Return")
    ok = wait_for(lambda: "Routine Brain" in title_of(app), START_TIMEOUT)
    tap.ok(ok, "e) Enter opens Routine Brain (window title)", title_of(app))
    n = counts["Routine Brain"]
    ok = wait_for(lambda: any(f"/{n} " in (safe(lambda v=v: v.description, "") or "")
                              for v in walk(app.acc) if name(v) == "Axial view"), START_TIMEOUT)
    tap.ok(ok, f"e) ... with the {n} slices the DICOMDIR lists for it",
           " | ".join(safe(lambda v=v: v.description, "") or "" for v in walk(app.acc)
                      if name(v) == "Axial view"))
    # The size, changed, is kept.
    key("ctrl+b")
    dlg = wait_for(lambda: shown_picker(app), UI_TIMEOUT)
    e0 = dlg and wait_for(lambda: (lambda e: e if e and e.width > 0 else None)(extents_of(dlg)),
                          UI_TIMEOUT)
    wins = xdo("search", "--onlyvisible", "--name", "^Choose a Series$").stdout.split()
    if not tap.ok(e0 is not None and wins, "e) Ctrl+B brings the browser back"):
        return
    geo = dict(line.split("=", 1) for line in
               xdo("getwindowgeometry", "--shell", wins[-1]).stdout.split() if "=" in line)
    xdo("windowsize", wins[-1], int(geo["WIDTH"]) - 160, int(geo["HEIGHT"]) - 90)
    e1 = wait_for(lambda: (lambda e: e if e and (e.width, e.height) != (e0.width, e0.height)
                           else None)(extents_of(dlg)), UI_TIMEOUT)
    time.sleep(0.5)
    e1 = extents_of(dlg)
    key("Escape")
    gone = wait_for(lambda: shown_picker(app) is None, UI_TIMEOUT)
    key("ctrl+b")
    dlg = wait_for(lambda: shown_picker(app), UI_TIMEOUT)
    e2 = dlg and wait_for(lambda: (lambda e: e if e and e.width > 0 else None)(extents_of(dlg)),
                          UI_TIMEOUT)
    tap.ok(gone and e1 is not None and e2 is not None and (e1.width, e1.height) != (e0.width, e0.height)
           and (e2.width, e2.height) == (e1.width, e1.height),
           "e) resized, closed with Escape and opened again: the browser keeps its size",
           f"before {e0.width}x{e0.height}, resized {e1 and (e1.width, e1.height)}, "
           f"again {e2 and (e2.width, e2.height)}, closed {bool(gone)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="mm-gui-tags-") as tmp:
        folder = make_folder(args.cli, tmp)
        app = App(args.app, [folder], logdir=tmp, tag="tags")
        try:
            if tap.ok(app.find_accessible() is not None, "the app starts on a folder of 4 series"):
                if scenario_browser(tap, app, folder, tmp):
                    scenario_tags(tap, app, folder)
        finally:
            finish(tap, app, "series and tags")
        if not os.path.exists(DICOMDIR):
            tap.skip("e) pydicom's DICOMDIR in the browser", f"{DICOMDIR} is not installed")
        else:
            app = App(args.app, [DICOMDIR], logdir=tmp, tag="dicomdir")
            try:
                if tap.ok(app.find_accessible() is not None, "the app starts on pydicom's DICOMDIR"):
                    scenario_dicomdir(tap, app)
            finally:
                finish(tap, app, "DICOMDIR")
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
