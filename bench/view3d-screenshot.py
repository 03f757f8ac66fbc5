#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# docs/screenshots/view3d.png: the seed CT in the 3D-only layout, metal and bone at 300 HU, turned
# a little. Run from the source root under the GUI tests' wrapper:
#   MM_TEST_WM=openbox tests/gui/run-under-xvfb build -- /usr/bin/python3 bench/view3d-screenshot.py \
#     build/src/app/metalmark $MM_SEED_CT 3d docs/screenshots/view3d.png
import os, sys, time, subprocess
sys.path.insert(0, "tests/gui")
from mmtest import find, name, role, safe, wait_for
from test_atspi import App
import pyatspi
app = App(sys.argv[1], ["--layout", sys.argv[3], "--segment", "--window-size", "1280x800", sys.argv[2]], logdir=os.environ.get("TMPDIR", "/tmp"), tag="shot")
assert app.find_accessible(120)
parts = wait_for(lambda: find(app.acc, lambda n: role(n) == "label" and "Part 1:" in name(n)), 120)
print("parts", name(parts))
wins = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(app.proc.pid)], capture_output=True, text=True).stdout.split()
geo = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wins[-1]], capture_output=True, text=True).stdout
kv = dict(l.split("=", 1) for l in geo.split() if "=" in l)
mainwin = wins[-1]
menu = wait_for(lambda: find(app.acc, lambda n: name(n).startswith("3D view: bone")), 30)
print("menu", role(menu))
btn = find(menu, lambda n: safe(lambda: n.queryAction().nActions, 0) > 0)
print("btn", role(btn), name(btn))
btn.queryAction().doAction(0)
time.sleep(1)
bone = wait_for(lambda: find(app.acc, lambda n: role(n) == "check box" and name(n) == "Bone"), 30)
print("bone", bone)
e = bone.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
print(e.x, e.y, e.width, e.height, kv)
for _ in range(3):
    if bone.getState().contains(pyatspi.STATE_FOCUSED):
        break
    subprocess.run(["xdotool", "key", "Tab"])
    time.sleep(0.5)
print("focused", bone.getState().contains(pyatspi.STATE_FOCUSED))
subprocess.run(["xdotool", "key", "space"])
time.sleep(2)
print("checked", bone.getState().contains(pyatspi.STATE_CHECKED))
print("building", wait_for(lambda: find(app.acc, lambda n: role(n) == "label" and name(n).startswith("Building")), 20))
ok = wait_for(lambda: find(app.acc, lambda n: role(n) == "label" and name(n).startswith("Building")) is None, 300, 1)
time.sleep(3)
subprocess.run(["xdotool", "key", "Escape"])
time.sleep(1)
X, Y = int(kv["X"]) + 450, int(kv["Y"]) + 400
subprocess.run(["xdotool", "mousemove", "--sync", str(X), str(Y), "click", "5", "click", "5"])
time.sleep(1)
subprocess.run(["xdotool", "mousedown", "1"])
for i in range(1, 11):
    subprocess.run(["xdotool", "mousemove", "--sync", str(X - 6 * i), str(Y - 2 * i)])
    time.sleep(0.1)
subprocess.run(["xdotool", "mouseup", "1"])
subprocess.run(["xdotool", "mousemove", str(X + 600), str(Y + 390)])
time.sleep(4)
wins = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(app.proc.pid)], capture_output=True, text=True).stdout.split()
subprocess.run(["import", "-window", mainwin, sys.argv[4]], check=True)
app.stop()
