#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""PACS passwords and tokens in the desktop keyring (issue 15), as a person uses them, against
a real Orthanc with HTTP basic authentication (tests/pacs/orthanclib.py) and a small bearer
server here (it wants "Authorization: Bearer TOKEN" and passes the DICOMweb requests on to
the Orthanc). The session's keyring is a real gnome-keyring-daemon, unlocked, in private
folders (tests/gui/run-under-xvfb); the test reads it back on its own through D-Bus with
python3-secretstorage (a Secret Service client that is not libsecret, which the app uses).

With a keyring (MM_TEST_KEYRING=unlocked, gui-pacs-keyring):
- Preferences → PACS → Add Server…: a DICOMweb server with basic authentication typed in
  (URL, user, password): Test Connection answers; after Save the keyring's login collection
  holds the password under the server's URL and user, and neither GSettings (a key file
  here) nor any file of the app's folders nor the app's output (G_MESSAGES_DEBUG=all) holds
  it. The same for a bearer server: the token is kept and sent as "Bearer TOKEN".
- Edit the server's URL without typing the password again: the password follows it.
- Open from PACS retrieves the series with the kept password; after a restart Test
  Connection and Search still work (the password from the keyring).
- A wrong password or token (changed in the keyring as another keyring client would):
  Search and Open Series fail in one line naming HTTP 401, nothing in the cache; typing the
  right password in Preferences makes Open Series work again.

Without a Secret Service (MM_TEST_KEYRING=none, gui-pacs-nokeyring): saving a server with a
password says in one line, in an alert, that the keyring could not keep it; Open
from PACS then says in one line that the keyring cannot be reached, nothing in the cache.

Run through tests/gui/run-under-xvfb. TAP on stdout. MM_TEST_SHOTS=DIR: a screenshot of the
alert is saved there to be looked at."""

import argparse
import base64
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "pacs"))
from mmtest import Tap, children, find, name, role, safe, wait_for, walk  # noqa: E402
from test_atspi import START_TIMEOUT, UI_TIMEOUT, App, finish  # noqa: E402
from test_pacs_dialog import (NET_TIMEOUT, button_in, cache_listing, choose, click,  # noqa: E402
                              focus_main, frame, keyfile_env, labels, open_preferences, press,
                              showing, xdo, xwindow)

BASIC, BEARER = "Orthanc Basic", "Bearer Proxy"
TOKEN = "mm-bearer-7f3a9c-not-logged"
WRONG = "wrong-password-41"
SCHEMA = "io.github.metalmark.Metalmark.Pacs"
URL_ROW = "Base URL (e.g. https://pacs:8042/dicom-web)"
SECRET_ROW = "Password or token (kept in the desktop keyring)"
# Roles of the containers whose labels are results, not the dialog's status line.
LISTS = ("list", "list box", "list item", "row", "list box row", "combo box", "push button")
BUSY = ("Searching…", "Retrieving the series…", "Testing the connection…")


class BearerServer:
    """DICOMweb behind a bearer token: a request without "Authorization: Bearer TOKEN" gets
    401; the others are passed on to the Orthanc with its basic credentials. Every
    Authorization header received is recorded (path, header)."""

    def __init__(self, orthanc, token):
        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                got = self.headers.get("Authorization", "")
                seen.append((self.path, got))
                if got != "Bearer " + token:
                    body = b'{"error": "token required"}'
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Bearer realm="mm-test"')
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                req = urllib.request.Request(orthanc.base + self.path)
                pair = base64.b64encode(("%s:%s" % (orthanc_user(), orthanc_password()))
                                        .encode()).decode()
                req.add_header("Authorization", "Basic " + pair)
                if self.headers.get("Accept"):
                    req.add_header("Accept", self.headers["Accept"])
                try:
                    with urllib.request.urlopen(req, timeout=60) as r:
                        status, ctype, body = r.status, r.headers.get("Content-Type"), r.read()
                except urllib.error.HTTPError as e:
                    status, ctype, body = e.code, e.headers.get("Content-Type"), e.read()
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/dicom-web" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def orthanc_user():
    import orthanclib
    return orthanclib.USER


def orthanc_password():
    import orthanclib
    return orthanclib.PASSWORD


# ------------------------------------------------------------------ the keyring, read apart

def keyring():
    """(connection, None) to the session's Secret Service, or (None, why not)."""
    try:
        import secretstorage
    except ImportError:
        return None, "python3-secretstorage is not installed"
    try:
        conn = secretstorage.dbus_init()
        secretstorage.get_default_collection(conn).is_locked()
        return conn, None
    except Exception as e:  # SecretServiceNotAvailableException and D-Bus errors
        return None, "%s: %s" % (type(e).__name__, e)


def kept_items(conn, url=None, user=None):
    """The keyring's items of the app's schema (optionally of url and user), with their
    collection's path: [(item, attributes, secret, collection)]."""
    import secretstorage
    attrs = {"xdg:schema": SCHEMA}
    if url is not None:
        attrs["url"] = url
    if user is not None:
        attrs["user"] = user
    out = []
    for col in secretstorage.get_all_collections(conn):
        for item in col.search_items(attrs):
            out.append((item, item.get_attributes(), item.get_secret().decode(),
                        col.collection_path))
    return out


def default_collection(conn):
    import secretstorage
    col = secretstorage.get_default_collection(conn)
    # The alias "default" resolves to the login collection gnome-keyring created.
    return col.collection_path, col.get_label(), col.is_locked()


# ------------------------------------------------------------------ the GUI

def field(win, row_title):
    return find(win, lambda n: role(n) in ("text", "password text", "entry")
                and name(n) == row_title and showing(n))


def type_field(pid, title, win, row_title, text, at_end=False):
    """Click the entry row titled row_title and type text as a person (at_end: after what
    the field holds: End first)."""
    f = wait_for(lambda: field(win, row_title), UI_TIMEOUT)
    if f is None or not click(pid, title, f):
        Tap.note("no field %r" % row_title)
        return False
    time.sleep(0.3)
    if at_end:
        xdo("key", "End")
    xdo("type", "--delay", "30", text)
    return True


def status(dialog, fixed):
    """(busy, the status line): the dialog's labels that were not there when it opened and
    are not inside a list, a combo box or a button. Busy while the Cancel button shows or
    the line says an operation runs."""
    busy, lines = False, []
    for n, up in walk(dialog):
        if role(n) != "label":
            continue
        t = name(n)
        if t == "Cancel" and not (fixed and t in fixed):
            busy = True
        if not t or t in fixed or any(role(a) in LISTS for a in up):
            continue
        lines.append(t)
    text = " | ".join(lines)
    return busy or text in BUSY, text


def wait_status(dialog, fixed, previous, timeout=NET_TIMEOUT):
    """The status line once the operation ended and the line differs from previous."""
    def ended():
        busy, text = status(dialog, fixed)
        return text if not busy and text and text != previous else None
    return wait_for(ended, timeout)


def titles(pid):
    return [xdo("getwindowname", w).stdout.strip() for w in
            xdo("search", "--onlyvisible", "--pid", pid).stdout.split()]


def close_window(app, title):
    win = frame(app, title)
    if win is None:
        return
    click(app.proc.pid, title, find(win, lambda n: role(n) == "push button"
                                    and name(n) == "Close" and showing(n)))
    wait_for(lambda: frame(app, title) is None, UI_TIMEOUT)


def editor_fill(tap, app, ed, title, what, name_=None, url=None, auth=None, user=None,
                secret=None, url_suffix=None):
    pid = app.proc.pid
    typed = True
    if name_ is not None:
        typed = type_field(pid, title, ed, "Name", name_) and typed
    if url is not None:
        typed = type_field(pid, title, ed, URL_ROW, url) and typed
    if url_suffix is not None:
        typed = type_field(pid, title, ed, URL_ROW, url_suffix, at_end=True) and typed
    if auth is not None:
        typed = choose(app, pid, title, ed, "Authentication", auth[0], auth[1]) and typed
    if user is not None:
        typed = type_field(pid, title, ed, "User", user) and typed
    if secret is not None:
        typed = type_field(pid, title, ed, SECRET_ROW, secret) and typed
    return tap.ok(typed, what, str([(role(n), name(n)) for n, _ in walk(ed)
                                    if role(n) in ("text", "password text", "combo box")]))


def add_server(tap, app, prefs, server, url, auth, user, secret, test=True):
    """Add Server…, fill in, Test Connection (test), Save; true when the list shows it."""
    title = "Add PACS Server"
    press(button_in(prefs, "Add Server…"))
    ed = wait_for(lambda: frame(app, title), UI_TIMEOUT)
    if not tap.ok(ed is not None, "Add Server… opens the editor (%s)" % server):
        return False
    editor_fill(tap, app, ed, title, "%s: name, URL, %s, user and secret typed in"
                % (server, auth[1]), name_=server, url=url, auth=auth,
                user=user or None, secret=secret)
    if test:
        fixed = set(labels(ed))
        press(button_in(ed, "Test Connection"))
        line = wait_status(ed, fixed, None)
        tap.ok(line and "answers DICOMweb queries" in line,
               "%s: Test Connection with the typed secret: the server answers" % server, line)
    press(button_in(ed, "Save"))
    row = wait_for(lambda: frame(app, title) is None
                   and find(prefs, lambda n: role(n) == "label" and name(n) == server
                            and showing(n)), UI_TIMEOUT)
    return tap.ok(row, "%s: Save closes the editor and Preferences lists it" % server)


def edit_server(tap, app, prefs, server, what, **fill):
    title = "Edit PACS Server"
    edit = find(prefs, lambda n: role(n) == "push button" and name(n) == "Edit " + server)
    if edit is None or not press(edit):
        return tap.ok(False, what, "no button 'Edit %s'" % server)
    ed = wait_for(lambda: frame(app, title), UI_TIMEOUT)
    if ed is None:
        return tap.ok(False, what, "no editor window")
    editor_fill(tap, app, ed, title, what, **fill)
    press(button_in(ed, "Save"))
    return tap.ok(wait_for(lambda: frame(app, title) is None, UI_TIMEOUT),
                  "%s: Save closes the editor" % server)


def open_dialog(tap, app):
    focus_main(app)
    xdo("key", "--clearmodifiers", "ctrl+shift+p")
    dialog = wait_for(lambda: frame(app, "Open from PACS"), UI_TIMEOUT)
    tap.ok(dialog is not None, "Ctrl+Shift+P opens 'Open from PACS'",
           str([(role(c), name(c)) for c in children(app.acc)]))
    return dialog


def study_row(dialog):
    return find(dialog, lambda n: role(n) in ("list item", "row", "list box row")
                and "Phantom^Metalmark" in " ".join(labels(n)) + name(n) and showing(n))


def series_row(dialog):
    return find(dialog, lambda n: role(n) in ("list item", "row", "list box row")
                and "24 instances" in " ".join(labels(n)) and showing(n))


def list_series(tap, app, dialog, fixed, previous, what):
    """Search, then a click on the phantom's study: its series row (or None)."""
    press(button_in(dialog, "Search"))
    line = wait_status(dialog, fixed, previous)
    row = wait_for(lambda: study_row(dialog), UI_TIMEOUT)
    if not tap.ok(row is not None and line and "1 study found" in line,
                  "%s: Search lists the phantom's study" % what, line):
        return None, line
    safe(lambda: row.queryComponent().grabFocus())
    time.sleep(0.5)
    click(app.proc.pid, "Open from PACS", row)
    srow = wait_for(lambda: series_row(dialog), NET_TIMEOUT)
    tap.ok(srow is not None, "%s: clicking the study lists its series, 24 instances" % what)
    return srow, line


def no_cache_series():
    cache, listing = cache_listing()
    return not [d for d in listing if d.startswith("series-") or "part" in d], listing


def one_line_401(line, url):
    return (line is not None and "\n" not in line and " | " not in line and "401" in line
            and url in line)


# ------------------------------------------------------------------ the scenarios

def secrets_on_disk(roots, secrets):
    """Files under roots holding any of secrets (bytes) in clear: [(path, secret)]."""
    hits = []
    for root in roots:
        for d, _, files in os.walk(root):
            for f in files:
                p = os.path.join(d, f)
                try:
                    data = open(p, "rb").read()
                except OSError:
                    continue
                hits += [(p, s) for s in secrets if s in data]
    return hits


def with_keyring(tap, args, tmp, orthanc, ct):
    import orthanclib
    conn, why = keyring()
    if not tap.ok(conn is not None, "secretstorage reaches the session's keyring", why):
        return
    bearer = BearerServer(orthanc, TOKEN)
    kf = os.path.join(os.environ["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")
    env = keyfile_env(tmp, {"G_MESSAGES_DEBUG": "all", "MM_PACS_TIMEOUT": "20"})
    info = json.loads(subprocess.run([args.cli, "info", "--json", ct], check=True,
                                     capture_output=True, text=True).stdout)
    path, label, locked = default_collection(conn)
    tap.ok(not locked, "the session's keyring is unlocked (default collection %s, %s)"
           % (path, label))
    apps = []
    try:
        app = App(args.app, [], env=env, logdir=tmp, tag="keyring-1")
        apps.append(app)
        if not tap.ok(app.find_accessible() is not None and wait_for(app.frames, START_TIMEOUT),
                      "the app starts (GSettings in a key file)"):
            return
        time.sleep(0.5)
        prefs = open_preferences(tap, app)
        if not tap.ok(prefs is not None, "Ctrl+comma opens Preferences with a PACS page"):
            return
        add_server(tap, app, prefs, BASIC, orthanc.url, (1, "Basic"), orthanclib.USER,
                   orthanclib.PASSWORD)
        items = kept_items(conn)
        mine = [i for i in items if i[1].get("url") == orthanc.url]
        tap.ok(len(mine) == 1 and mine[0][1].get("user") == orthanclib.USER
               and mine[0][2] == orthanclib.PASSWORD and mine[0][3].endswith("/login"),
               "the password is kept in the keyring's login collection under the server's URL "
               "and user (read back with secretstorage)",
               str([(a, c) for _, a, _, c in items]))
        keyfile = open(kf).read() if os.path.exists(kf) else ""
        tap.ok(BASIC in keyfile and orthanc.url in keyfile and "basic" in keyfile
               and orthanclib.PASSWORD not in keyfile,
               "GSettings (the key file) keeps the server, its URL and 'basic', not the "
               "password", keyfile[:300])

        add_server(tap, app, prefs, BEARER, bearer.url, (2, "Bearer"), None, TOKEN)
        got = kept_items(conn, url=bearer.url)
        tap.ok(len(got) == 1 and got[0][2] == TOKEN and got[0][1].get("user") == "",
               "the bearer token is kept in the keyring under the bearer server's URL",
               str([a for _, a, _, _ in got]))
        tap.ok(("/dicom-web/studies?limit=1", "Bearer " + TOKEN) in bearer.seen,
               "Test Connection sent 'Authorization: Bearer TOKEN' to the bearer server",
               str([(p, h[:7]) for p, h in bearer.seen]))

        # The URL edited (a '/' added), no password typed: the kept one follows the server.
        moved = orthanc.url + "/"
        edit_server(tap, app, prefs, BASIC, "%s: its URL edited (a '/' added at the end), no "
                    "password typed" % BASIC, url_suffix="/")
        old, new = kept_items(conn, url=orthanc.url), kept_items(conn, url=moved)
        tap.ok(not old and len(new) == 1 and new[0][2] == orthanclib.PASSWORD,
               "the kept password follows the edited URL (none left under the old one)",
               "old %d, new %s" % (len(old), [a for _, a, _, _ in new]))
        close_window(app, "Preferences")

        dialog = open_dialog(tap, app)
        if dialog is None:
            return
        fixed = set(labels(dialog))
        pid = app.proc.pid
        tap.ok(choose(app, pid, "Open from PACS", dialog, "Server", 0, BASIC + " · "),
               "%s chosen in the dialog" % BASIC)
        srow, line = list_series(tap, app, dialog, fixed, None,
                                 "%s (password from the keyring)" % BASIC)
        if srow is not None:
            press(button_in(dialog, "Open Series"))
            opened = wait_for(lambda: any(info["series_description"] in t for t in titles(pid)),
                              NET_TIMEOUT)
            cache, listing = cache_listing()
            dirs = [d for d in listing if d.startswith("series-")]
            tap.ok(opened and len(dirs) == 1
                   and len(os.listdir(os.path.join(cache, dirs[0]))) == 24,
                   "Open Series with the kept password retrieves 24 files into the cache and "
                   "the window shows the series", "%s %s" % (titles(pid), listing))
        finish(tap, app, "keyring, first start")

        # Restart: nothing typed any more, the password only in the keyring.
        shutil.rmtree(cache_listing()[0], ignore_errors=True)
        app = App(args.app, [], env=env, logdir=tmp, tag="keyring-2")
        apps.append(app)
        if not tap.ok(app.find_accessible() is not None and wait_for(app.frames, START_TIMEOUT),
                      "the app starts again"):
            return
        time.sleep(0.5)
        pid = app.proc.pid
        dialog = open_dialog(tap, app)
        if dialog is None:
            return
        fixed = set(labels(dialog))
        tap.ok(choose(app, pid, "Open from PACS", dialog, "Server", 0, BASIC + " · "),
               "%s chosen in the dialog after the restart" % BASIC)
        press(button_in(dialog, "Test Connection"))
        line = wait_status(dialog, fixed, None)
        tap.ok(line and "answers DICOMweb queries" in line,
               "after the restart Test Connection answers (the password from the keyring)",
               line)

        # A wrong password in the keyring (as another keyring client would change it).
        item = kept_items(conn, url=moved)[0][0]
        item.set_secret(WRONG.encode())
        press(button_in(dialog, "Search"))
        previous = line
        line = wait_status(dialog, fixed, previous)
        tap.ok(one_line_401(line, orthanc.url) and study_row(dialog) is None
               and no_cache_series()[0],
               "a wrong password: Search fails in one line naming HTTP 401, lists nothing, "
               "nothing in the cache", line)
        item.set_secret(orthanclib.PASSWORD.encode())
        srow, line = list_series(tap, app, dialog, fixed, line,
                                 "the right password again, after the restart")
        if srow is not None:
            item.set_secret(WRONG.encode())
            press(button_in(dialog, "Open Series"))
            line = wait_status(dialog, fixed, line)
            ok, listing = no_cache_series()
            shown = titles(pid)
            tap.ok(one_line_401(line, orthanc.url) and ok and "Open from PACS" in shown
                   and not any(info["series_description"] in t for t in shown),
                   "a wrong password: Open Series fails in one line naming HTTP 401, nothing "
                   "in the cache, the series not opened", "%s %s %s" % (line, listing, shown))

        # The bearer server: the token from the keyring, then a wrong one.
        tap.ok(choose(app, pid, "Open from PACS", dialog, "Server", 1, BEARER + " · "),
               "%s chosen in the dialog" % BEARER)
        n_seen = len(bearer.seen)
        press(button_in(dialog, "Search"))
        line = wait_status(dialog, fixed, line)
        tap.ok(line and "1 study found" in line
               and [p for p, h in bearer.seen[n_seen:] if p.startswith("/dicom-web/studies?")
                    and h == "Bearer " + TOKEN],
               "%s: Search sends the kept token and lists the study" % BEARER,
               "%s %s" % (line, [(p, h[:7]) for p, h in bearer.seen[n_seen:]]))
        kept_items(conn, url=bearer.url)[0][0].set_secret(b"not-the-token")
        press(button_in(dialog, "Search"))
        line = wait_status(dialog, fixed, line)
        tap.ok(one_line_401(line, bearer.url) and no_cache_series()[0],
               "%s: a wrong token fails in one line naming HTTP 401, nothing in the cache"
               % BEARER, line)
        close_window(app, "Open from PACS")

        # The right password typed in Preferences: Open Series works again.
        prefs = open_preferences(tap, app)
        if prefs is None:
            tap.ok(False, "Preferences opens again")
            return
        edit_server(tap, app, prefs, BASIC, "%s: the right password typed in again" % BASIC,
                    secret=orthanclib.PASSWORD)
        got = kept_items(conn, url=moved)
        tap.ok(len(got) == 1 and got[0][2] == orthanclib.PASSWORD,
               "the keyring holds the typed password in place of the wrong one (one item)",
               str(len(got)))
        close_window(app, "Preferences")
        dialog = open_dialog(tap, app)
        if dialog is None:
            return
        fixed = set(labels(dialog))
        tap.ok(choose(app, pid, "Open from PACS", dialog, "Server", 0, BASIC + " · "),
               "%s chosen again" % BASIC)
        srow, line = list_series(tap, app, dialog, fixed, None, "the typed password")
        if srow is not None:
            press(button_in(dialog, "Open Series"))
            opened = wait_for(lambda: any(info["series_description"] in t for t in titles(pid)),
                              NET_TIMEOUT)
            cache, listing = cache_listing()
            dirs = [d for d in listing if d.startswith("series-")]
            tap.ok(opened and len(dirs) == 1
                   and len(os.listdir(os.path.join(cache, dirs[0]))) == 24,
                   "Open Series retrieves the 24 files again", "%s %s" % (titles(pid), listing))
        finish(tap, app, "keyring, second start")
    finally:
        for a in apps:
            a.stop()
        bearer.stop()
    secrets = [orthanclib.PASSWORD.encode(), TOKEN.encode(),
               base64.b64encode(("%s:%s" % (orthanclib.USER, orthanclib.PASSWORD)).encode())]
    logs = "".join(a.output() for a in apps)
    tap.ok(logs and not [s for s in secrets if s.decode() in logs],
           "the app's output (G_MESSAGES_DEBUG=all, %d bytes) holds no password, token or "
           "Authorization value" % len(logs))
    roots = [os.environ["XDG_CONFIG_HOME"], os.environ["XDG_CACHE_HOME"],
             os.environ["XDG_DATA_HOME"], os.environ.get("MM_TEST_HOME", tmp)]
    hits = secrets_on_disk(roots, secrets)
    ring = os.path.join(os.environ["XDG_DATA_HOME"], "keyrings", "login.keyring")
    tap.ok(os.path.exists(ring) and not hits,
           "no file of the session's config, cache, data (the keyring file is encrypted) or "
           "home holds a secret in clear", str(hits))


def without_keyring(tap, args, tmp, orthanc):
    import orthanclib
    conn, why = keyring()
    tap.ok(conn is None and "org.freedesktop.secrets" in (why or ""),
           "the session has no Secret Service (secretstorage cannot reach one)", why)
    env = keyfile_env(tmp, {"G_MESSAGES_DEBUG": "all"})
    app = App(args.app, [], env=env, logdir=tmp, tag="nokeyring")
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(app.frames, START_TIMEOUT),
                      "the app starts"):
            return
        time.sleep(0.5)
        prefs = open_preferences(tap, app)
        if not tap.ok(prefs is not None, "Ctrl+comma opens Preferences with a PACS page"):
            return
        add_server(tap, app, prefs, BASIC, orthanc.url, (1, "Basic"), orthanclib.USER,
                   orthanclib.PASSWORD)

        alert = wait_for(lambda: frame(app, "Password Not Kept"), UI_TIMEOUT)
        said = [t for t in labels(alert) if "keyring could not keep it" in t] if alert else []
        tap.ok(len(said) == 1 and "\n" not in said[0] and "org.freedesktop.secrets" in said[0],
               "Save says in one line, in an alert ('Password Not Kept'), that the keyring "
               "could not keep the password, and why", str(said or labels(alert or app.acc)))
        shots = os.environ.get("MM_TEST_SHOTS")
        w = xwindow(app.proc.pid, "Password Not Kept")
        if shots and w and shutil.which("import"):
            os.makedirs(shots, exist_ok=True)
            subprocess.run(["import", "-window", w,
                            os.path.join(shots, "pacs-nokeyring-alert.png")])
        if alert is not None:
            press(button_in(alert, "Close"))
        tap.ok(wait_for(lambda: frame(app, "Password Not Kept") is None, UI_TIMEOUT),
               "the alert's Close button closes it")
        kf = os.path.join(os.environ["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")
        keyfile = open(kf).read() if os.path.exists(kf) else ""
        tap.ok(BASIC in keyfile and orthanclib.PASSWORD not in keyfile,
               "the server is saved, its password not in GSettings", keyfile[:300])
        close_window(app, "Preferences")
        dialog = open_dialog(tap, app)
        if dialog is None:
            return
        fixed = set(labels(dialog))
        press(button_in(dialog, "Search"))
        line = wait_status(dialog, fixed, None)
        tap.ok(line and "\n" not in line and " | " not in line and BASIC in line
               and "keyring" in line and "cannot be reached" in line
               and no_cache_series()[0] and study_row(dialog) is None,
               "Search says in one line that the keyring cannot be reached, nothing in the "
               "cache", line)
        finish(tap, app, "no keyring")
    finally:
        app.stop()
    out = app.output()
    tap.ok(out and orthanclib.PASSWORD not in out, "the app's output holds no password")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    import orthanclib
    why = orthanclib.skip_reason()
    mode = os.environ.get("MM_TEST_KEYRING", "")
    if not why and mode == "absent":
        why = "gnome-keyring is not installed (Debian package gnome-keyring)"
    elif not why and mode in ("unlocked", "none"):
        try:
            import secretstorage  # noqa: F401
        except ImportError:
            why = "python3-secretstorage is not installed (for /usr/bin/python3)"
    elif not why and mode == "failed":
        print("not ok 1 - run-under-xvfb's gnome-keyring-daemon came up on the session bus")
        print("1..1")
        return 1
    elif not why:
        why = "run it through tests/gui/run-under-xvfb (MM_TEST_KEYRING unset)"
    if why:
        print("1..0 # SKIP " + why)
        return 0
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix="mm-gui-keyring-")
    orthanc = orthanclib.Orthanc(tmp, auth=True)
    try:
        src = os.path.join(tmp, "phantom")
        subprocess.run([args.cli, "phantom", "--slices", "24", "--size", "128", src],
                       check=True, capture_output=True)
        ct = os.path.join(src, "ct")
        orthanc.upload(ct)
        # Orthanc's own check of its authentication: a request without credentials is 401.
        try:
            urllib.request.urlopen(orthanc.url + "/studies", timeout=30)
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        tap.ok(code == 401, "the Orthanc wants basic authentication (no credentials: %d)" % code)
        if mode == "none":
            without_keyring(tap, args, tmp, orthanc)
        else:
            with_keyring(tap, args, tmp, orthanc, ct)
    finally:
        orthanc.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
