# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the tests that drive the app under Xvfb: TAP output, polling, and
walking the accessibility tree (the nodes are pyatspi objects; this module imports nothing
from pyatspi, so the screenshot test can use it without it)."""

import re
import time

# What an app's log must not hold: GLib's criticals and warnings, and under a sanitizer build
# its reports (the app quits cleanly on SIGTERM, so LeakSanitizer's exit check runs too).
COMPLAINT = re.compile(r"-(CRITICAL|WARNING) \*\*|ERROR: (Address|Leak|Thread)Sanitizer"
                       r"|runtime error: |SUMMARY: (Address|Leak|Undefined)")


def complaints(text):
    """The lines of an app's log that COMPLAINT matches."""
    return [ln.strip() for ln in text.splitlines() if COMPLAINT.search(ln)]


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=""):
        self.n += 1
        cond = bool(cond)
        if not cond:
            self.failed += 1
        line = f"{'ok' if cond else 'not ok'} {self.n} - {what}"
        if detail:
            line += " (" + " | ".join(str(detail).strip().splitlines()) + ")"
        print(line, flush=True)
        return cond

    def skip(self, what, reason):
        self.n += 1
        print(f"ok {self.n} - {what} # SKIP {reason}", flush=True)

    @staticmethod
    def note(text):
        for line in str(text).splitlines():
            print(f"# {line}", flush=True)

    def done(self):
        print(f"1..{self.n}", flush=True)
        return 1 if self.failed else 0


def wait_for(fn, timeout, interval=0.05):
    """Poll fn until it returns something true; that value, or None at the timeout."""
    end = time.monotonic() + timeout
    while True:
        try:
            v = fn()
        except Exception:  # accessible objects come and go while the tree is rebuilt
            v = None
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(interval)


def safe(fn, default=None):
    try:
        return fn()
    except Exception:
        return default


def children(node):
    n = safe(lambda: node.childCount, 0) or 0
    for i in range(n):
        c = safe(lambda: node.getChildAtIndex(i))
        if c is not None:
            yield c


def walk(node, max_nodes=20000):
    """(node, ancestors) for every node under node, node included, breadth first."""
    queue, seen = [(node, ())], 0
    while queue and seen < max_nodes:
        n, up = queue.pop(0)
        seen += 1
        yield n, up
        queue.extend((c, up + (n,)) for c in children(n))


def role(node):
    return safe(node.getRoleName, "")


def name(node):
    return safe(lambda: node.name, "") or ""


def find(node, pred):
    for n, _ in walk(node):
        if safe(lambda: pred(n), False):
            return n
    return None

