# SPDX-License-Identifier: GPL-3.0-or-later
"""TAP output and subprocess running shared by the Python test scripts outside tests/gui
(which has its own mmtest.py). A script imports it after putting tests/ on sys.path."""

import subprocess
import sys

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
