#!/usr/bin/env python3
"""Headless Chromium, driven over the Chrome DevTools Protocol, for tests/integration/browser.rs (and the other
browser tests: console_browser.rs, pin_page.rs).

    chromium.py PROFILE_DIR        # then JSON commands on stdin, one per line; one JSON reply per line on stdout

Chromium runs as the test's browser: it reads client certificates from $HOME/.pki/nssdb (the caller sets HOME)
and managed policies from /etc/chromium/policies (the caller writes AutoSelectCertificateForUrls there).
$HCPKI_CHROMIUM names another Chromium build to try (the default is Debian's `chromium`). This
script only starts it, forwards commands and reports what the browser did; the test decides what is right.

Commands (each reply is {"ok": true, ...} or {"ok": false, "error": "..."}; every wait has a timeout):
    {"cmd": "goto", "url": U}                      navigate the main tab, wait for its load event → {"url"}
    {"cmd": "click", "selector": S, "tab": T?}     a real mouse click at the element's centre (a user gesture,
                                                   so window.open in the page is not blocked)
    {"cmd": "type", "selector": S, "text": X, "tab": T?}   focus the element, insert X as typed text
    {"cmd": "key", "key": "Tab"|"Enter"|" ", "tab": T?}   a real key press on whatever has the focus → {"focused"} ({"focused": null, "closed": true} when the key closed its window)
                                                   (the focused element's id or class afterwards)
    {"cmd": "keys", "text": X, "tab": T?}          X typed key by key (printable ASCII) into whatever has the focus,
                                                   nothing focused by script → {"focused"}
    {"cmd": "cookie", "url": U, "name": N, "value": V}   set a cookie (Secure, HttpOnly) for U, as a login in
                                                   another client of the same person left it (tests log in with curl)
    {"cmd": "accept_language", "value": V}        the main tab sends Accept-Language V from now on (headless
                                                   Chromium asks for English whatever --lang says)
    {"cmd": "axe", "tags": [..]?, "tab": T?}       axe-core (tests/peers/node/node_modules/axe-core, installed by
                                                   scripts/deps) run on the tab's page, by default with the WCAG
                                                   2.1 A and AA rules → {"violations": [{id, impact, help,
                                                   helpUrl, nodes: [{target, html, failureSummary}]}],
                                                   "passes": N, "version"}
    {"cmd": "eval", "expr": E, "tab": T?}          → {"value"} (awaits promises)
    {"cmd": "wait_url", "prefix": P, "timeout": s} until the main tab has navigated to a URL starting with P
                                                   (with "exact": true, to P itself) → {"url"}
    {"cmd": "wait_popup", "contains": C}           until a window opened by the page shows a URL containing C,
                                                   attached as tab "popup" once loaded → {"url"}
    {"cmd": "forget_popups"}                       windows the page opened so far no longer count for wait_popup
                                                   (a test that opens the PIN window again waits for the new one)
    {"cmd": "wait_response", "contains": C}        until the main tab received response headers of a request
                                                   whose URL contains C (since the last goto) → {"url", "status"};
                                                   with "status": S, only a response with that status counts
                                                   (a CORS preflight's 204 is a response too)
    {"cmd": "intercept", "prefix": P}              requests to URLs starting with P never leave the browser:
                                                   they are answered with a small page (a relying service)
    {"cmd": "screenshot", "path": F, "tab": T?}    PNG of the tab's whole page (the main tab by default)
    {"cmd": "record"}                              from now on, note what happens with its time (epoch ms, this
                                                   script's clock when the browser told it): the main tab's
                                                   requests (sent, response with status and Server-Timing,
                                                   finished), navigations and load events of every tab, and each
                                                   click's moment; windows opened before are forgotten by
                                                   wait_popup → {"t"}
    {"cmd": "timeline"}                            what was noted since "record" → {"events": [{t, what, tab,
                                                   ...}], "t"} (what: request, response, finished, navigated,
                                                   dom_content, load, click)
    {"cmd": "viewport", "width": W, "height": H}   the main tab lays pages out W × H CSS pixels wide from now on
                                                   (a 1280 px clinic PC, a 768 px tablet); screenshots follow
    {"cmd": "cdp", "method": M, "params": P?, "tab": T?}   one DevTools command as is → {"result"} (the WebAuthn
                                                   domain's virtual authenticators, tests/integration/passkey.rs)
    {"cmd": "quit"}
"""

import base64
import ctypes
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

TIMEOUT = 30


class TabClosed(RuntimeError):
    """A command sent to a tab that closed before answering it."""

# axe-core's rules for WCAG 2.1 levels A and AA (its tags: https://github.com/dequelabs/axe-core/blob/develop/doc/API.md).
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node", "node_modules", "axe-core", "axe.min.js")


def die_with_parent():
    # Chromium goes when this script goes, even when the test kills it: no browser outlives its test.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Browser:
    def __init__(self, profile):
        self.profile = profile
        os.makedirs(profile, exist_ok=True)
        binary = os.environ.get("HCPKI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            raise SystemExit("chromium is not installed: run scripts/deps")
        # The flags of a quiet, reproducible headless run: nothing fetched in the background, no first-run UI,
        # no QUIC (the portal speaks TCP TLS only); --no-sandbox because the tests run as root.
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--window-size=960,420",
                "--lang=ja",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
            stderr=open(os.path.join(profile, "chromium.log"), "wb"),
        )
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + TIMEOUT
        while not (os.path.exists(port_file) and len(open(port_file).read().split()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"chromium did not start: see {profile}/chromium.log")
            time.sleep(0.05)
        port, path = open(port_file).read().split()[:2]
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=64 << 20, open_timeout=TIMEOUT)
        self.next_id = 0
        self.replies = {}
        self.events = queue.Queue()
        self.lock = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()
        self.sessions = {}  # tab name → CDP session id
        self.gone = set()  # session ids of tabs that closed (their pending commands get no answer)
        self.intercepts = []
        self.responses = []
        self.navigated = []
        self.popups = {}  # target id → url, for windows the page opened
        self.noted = None  # the timeline: a list while "record" is on
        self.send("Target.setDiscoverTargets", {"discover": True})
        page = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.attach("main", page["targetId"])
        self.send("Network.enable", session="main")

    def read(self):
        try:
            for raw in self.ws:
                self.dispatch(json.loads(raw))
        except ConnectionClosed:
            pass  # Browser.close, or chromium died: pending sends time out and say so

    def dispatch(self, msg):
        if "id" in msg:
            with self.lock:
                self.replies[msg["id"]] = msg
                self.lock.notify_all()
        else:
            self.on_event(msg)

    def on_event(self, msg):
        method, params, session = msg["method"], msg.get("params", {}), msg.get("sessionId")
        main = self.sessions.get("main")
        with self.lock:
            if method in ("Target.targetCreated", "Target.targetInfoChanged"):
                info = params["targetInfo"]
                if info["type"] == "page" and info.get("openerId"):
                    self.popups[info["targetId"]] = info["url"]
            elif method == "Target.targetDestroyed":
                # A closed window is no longer one wait_popup may find (a page opens its PIN window once per login).
                self.popups.pop(params["targetId"], None)
            elif method == "Target.detachedFromTarget":
                # Its pending commands will never be answered: send stops waiting for them (TabClosed).
                if params.get("sessionId"):
                    self.gone.add(params["sessionId"])
            elif method == "Page.frameNavigated" and session == main and "parentId" not in params["frame"]:
                self.navigated.append(params["frame"]["url"])
            elif method == "Network.responseReceived" and session == main:
                self.responses.append((params["response"]["url"], params["response"]["status"]))
            elif method == "Fetch.requestPaused":
                # Answered on another thread: the reader must not wait on its own replies.
                threading.Thread(target=self.fulfil, args=(session, params), daemon=True).start()
            if self.noted is not None:
                self.note_event(method, params, session)
            self.lock.notify_all()
        self.events.put(msg)

    def note_event(self, method, params, session):
        """Notes a timed event while recording (the lock is held)."""
        tab = next((name for name, sid in self.sessions.items() if sid == session), None)
        entry = {"t": time.time() * 1000, "tab": tab}
        if method == "Network.requestWillBeSent":
            if "redirectResponse" in params:
                # A redirect's response comes only here (no responseReceived): noted as the response it is.
                self.noted.append(self.response_entry(entry["t"], tab, params["requestId"], params["redirectResponse"]))
            request = params["request"]
            entry.update(what="request", id=params["requestId"], url=request["url"], method=request["method"])
        elif method == "Network.responseReceived":
            entry = self.response_entry(entry["t"], tab, params["requestId"], params["response"])
        elif method == "Network.loadingFinished":
            entry.update(what="finished", id=params["requestId"])
        elif method == "Page.frameNavigated" and "parentId" not in params["frame"]:
            entry.update(what="navigated", url=params["frame"]["url"])
        elif method == "Page.domContentEventFired":
            entry.update(what="dom_content")
        elif method == "Page.loadEventFired":
            entry.update(what="load")
        else:
            return
        self.noted.append(entry)

    @staticmethod
    def response_entry(t, tab, request_id, response):
        timing = next((v for k, v in response.get("headers", {}).items() if k.lower() == "server-timing"), None)
        return {
            "t": t, "tab": tab, "what": "response", "id": request_id, "url": response["url"],
            "status": response["status"], "server_timing": timing,
        }

    def fulfil(self, session, params):
        page = b"<!doctype html><title>service</title><p>relying service reached</p>"
        self.send(
            "Fetch.fulfillRequest",
            {
                "requestId": params["requestId"],
                "responseCode": 200,
                "responseHeaders": [{"name": "Content-Type", "value": "text/html"}],
                "body": base64.b64encode(page).decode(),
            },
            session_id=session,
        )

    def send(self, method, params=None, session=None, session_id=None):
        with self.lock:
            self.next_id += 1
            mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        sid = session_id or (self.sessions[session] if session else None)
        if sid:
            msg["sessionId"] = sid
        self.ws.send(json.dumps(msg))
        with self.lock:
            if not self.lock.wait_for(lambda: mid in self.replies or (sid is not None and sid in self.gone), TIMEOUT):
                raise RuntimeError(f"{method}: no answer from chromium")
            if mid not in self.replies:
                raise TabClosed(f"{method}: the tab closed before it answered")
            reply = self.replies.pop(mid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def attach(self, name, target_id):
        sid = self.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})["sessionId"]
        self.sessions[name] = sid
        self.send("Page.enable", session=name)
        self.send("Runtime.enable", session=name)
        if self.intercepts:
            self.enable_fetch(name)

    def enable_fetch(self, name):
        patterns = [{"urlPattern": p + "*", "requestStage": "Request"} for p in self.intercepts]
        self.send("Fetch.enable", {"patterns": patterns}, session=name)

    def wait(self, what, done, timeout):
        with self.lock:
            value = self.lock.wait_for(done, timeout)
        if not value:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        return value

    def evaluate(self, expr, tab="main"):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True}, session=tab)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails'].get('exception', {}).get('description')}")
        return r["result"].get("value")

    # ---- commands ----------------------------------------------------------------------------------------

    def goto(self, c):
        with self.lock:
            self.responses.clear()
        loaded = self.events_after()
        r = self.send("Page.navigate", {"url": c["url"]}, session="main")
        if r.get("errorText"):
            raise RuntimeError(f"{c['url']}: {r['errorText']}")
        loaded(lambda m: m["method"] == "Page.loadEventFired" and m.get("sessionId") == self.sessions["main"])
        # wait_url reports navigations the page makes itself from here on, not this one.
        with self.lock:
            self.navigated.clear()
        return {"url": self.evaluate("location.href")}

    def events_after(self):
        """A waiter for an event that arrives after this call."""
        while not self.events.empty():
            self.events.get_nowait()

        def until(pred, timeout=TIMEOUT):
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("timed out waiting for the page to load")
                try:
                    m = self.events.get(timeout=left)
                except queue.Empty:
                    continue
                if pred(m):
                    return m

        return until

    def click(self, c):
        tab = c.get("tab", "main")
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(c['selector'])}); if (!e) return null;"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()",
            tab,
        )
        if box is None:
            raise RuntimeError(f"no element {c['selector']}")
        for kind in ("mousePressed", "mouseReleased"):
            if kind == "mouseReleased":
                # The page's click event fires on the release: that is the click's moment.
                with self.lock:
                    if self.noted is not None:
                        click = {"t": time.time() * 1000, "tab": tab, "what": "click", "selector": c["selector"]}
                        self.noted.append(click)
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
                session=tab,
            )
        return {}

    def type(self, c):
        tab = c.get("tab", "main")
        found = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(c['selector'])}); if (!e) return false;"
            " e.focus(); return true; })()",
            tab,
        )
        if not found:
            raise RuntimeError(f"no element {c['selector']}")
        self.send("Input.insertText", {"text": c["text"]}, session=tab)
        return {}

    # The keys a keyboard-only user needs: move the focus, follow a link or submit, press a button.
    KEYS = {"Tab": ("Tab", 9, None), "Enter": ("Enter", 13, "\r"), " ": ("Space", 32, " ")}

    def key(self, c):
        tab = c.get("tab", "main")
        if c["key"] not in self.KEYS:
            raise RuntimeError(f"key {c['key']!r}: use one of {sorted(self.KEYS)}")
        code, vk, text = self.KEYS[c["key"]]
        down = {"type": "keyDown", "key": c["key"], "code": code, "windowsVirtualKeyCode": vk}
        if text:
            down["text"] = text
        self.send("Input.dispatchKeyEvent", down, session=tab)
        up = {"type": "keyUp", "key": c["key"], "code": code, "windowsVirtualKeyCode": vk}
        closed = {"focused": None, "closed": True}
        try:
            self.send("Input.dispatchKeyEvent", up, session=tab)
            return {"focused": self.focused(tab)}
        except TabClosed:
            # The key closed its window (Enter in the card agent's PIN window: the portal's page closes it once the
            # card has signed), possibly while the focus was asked for: nothing has the focus there any more.
            return closed
        except RuntimeError as e:
            # Chromium answers "Inspected target navigated or closed" when the key made the page navigate or began
            # closing its window while the question ran: wait until the window is gone, else ask the page that
            # followed.
            if "navigated or closed" not in str(e):
                raise
            sid = self.sessions.get(tab)
            with self.lock:
                if self.lock.wait_for(lambda: sid in self.gone, 2):
                    return closed
            try:
                return {"focused": self.focused(tab)}
            except TabClosed:
                return closed

    def focused(self, tab):
        """The focused element's id, else its class, else its tag."""
        return self.evaluate(
            "(() => { const e = document.activeElement; return e ? (e.id || e.className || e.tagName) : null; })()",
            tab,
        )

    def keys(self, c):
        """Each character as a real key press (keyDown with its text, keyUp) on the focused element. Typing into
        a window that has just loaded waits (up to 10 s) for a field to have the focus: a page's `autofocus` is
        applied at its next rendering, after the load event, and keys sent before it went nowhere (the consent
        journey's PIN was lost so on a loaded machine). If no field takes it, the keys go where the focus is."""
        tab = c.get("tab", "main")
        editable = "(() => { const e = document.activeElement; return !!e && (e.tagName === 'INPUT' || e.tagName === 'TEXTAREA' || e.isContentEditable); })()"
        deadline = time.monotonic() + 10
        while not self.evaluate(editable, tab) and time.monotonic() < deadline:
            time.sleep(0.05)
        for ch in c["text"]:
            if not (" " <= ch <= "~"):
                raise RuntimeError("keys types printable ASCII only")
            code = f"Digit{ch}" if ch.isdigit() else (f"Key{ch.upper()}" if ch.isalpha() else "")
            vk = ord(ch.upper()) if ch.isalnum() else 0
            down = {"type": "keyDown", "key": ch, "code": code, "text": ch, "windowsVirtualKeyCode": vk}
            self.send("Input.dispatchKeyEvent", down, session=tab)
            up = {"type": "keyUp", "key": ch, "code": code, "windowsVirtualKeyCode": vk}
            self.send("Input.dispatchKeyEvent", up, session=tab)
        try:
            return {"focused": self.focused(tab)}
        except TabClosed:
            # The key closed its window (Enter in the card agent's PIN window: the portal's page closes it once the
            # card has signed), possibly while the focus was asked for: nothing has the focus there any more.
            return {"focused": None, "closed": True}

    def cookie(self, c):
        ok = self.send("Network.setCookie", {"url": c["url"], "name": c["name"], "value": c["value"], "secure": True,
                                             "httpOnly": True, "sameSite": "Lax"}, session="main")
        if not ok.get("success", True):
            raise RuntimeError(f"the cookie {c['name']} was not set for {c['url']}")
        return {}

    def accept_language(self, c):
        user_agent = self.send("Browser.getVersion")["userAgent"]
        self.send("Network.setUserAgentOverride", {"userAgent": user_agent, "acceptLanguage": c["value"]}, session="main")
        return {}

    def axe(self, c):
        """axe-core on the tab's page: its violations of the given rule tags. The script is evaluated over the
        DevTools protocol, which the page's Content-Security-Policy does not govern, so pages that load no
        script (the agent's PIN page: default-src 'none') are checked as they are served."""
        tab = c.get("tab", "main")
        if not os.path.exists(AXE_JS):
            raise RuntimeError(f"{AXE_JS} is missing: run scripts/deps (npm ci in tests/peers/node)")
        if not self.evaluate("typeof window.axe === 'object'", tab):
            with open(AXE_JS, encoding="utf-8") as f:
                self.evaluate(f.read() + "\n;true", tab)
        tags = c.get("tags") or WCAG21_AA
        options = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]}
        expr = (
            f"axe.run(document, {json.dumps(options)}).then(r => ({{"
            " version: r.testEngine.version, passes: r.passes.length,"
            " violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,"
            " nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary}))}))"
            " }))"
        )
        return self.evaluate(expr, tab)

    def wait_url(self, c):
        prefix = c["prefix"]
        exact = c.get("exact", False)
        url = self.wait(
            f"a navigation to {prefix}",
            lambda: next((u for u in self.navigated if (u == prefix if exact else u.startswith(prefix))), None),
            c.get("timeout", TIMEOUT),
        )
        with self.lock:
            self.navigated.clear()
        self.loaded("main")
        return {"url": url}

    def loaded(self, tab):
        """Waits until the tab's document (committed already) has finished loading."""
        deadline = time.monotonic() + TIMEOUT
        while self.evaluate("document.readyState", tab) != "complete":
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {tab} tab never finished loading")
            time.sleep(0.05)

    def wait_popup(self, c):
        contains = c["contains"]
        target = self.wait(
            f"a window showing {contains}",
            lambda: next((t for t, u in self.popups.items() if contains in u), None),
            c.get("timeout", TIMEOUT),
        )
        self.attach("popup", target)
        self.loaded("popup")
        return {"url": self.evaluate("location.href", "popup")}

    def forget_popups(self, c):
        with self.lock:
            self.popups.clear()
        return {}

    def wait_response(self, c):
        contains = c["contains"]
        want = c.get("status")
        url, status = self.wait(
            f"a response from {contains}" + (f" with status {want}" if want else ""),
            lambda: next((r for r in self.responses if contains in r[0] and want in (None, r[1])), None),
            c.get("timeout", TIMEOUT),
        )
        return {"url": url, "status": status}

    def intercept(self, c):
        self.intercepts.append(c["prefix"])
        self.enable_fetch("main")
        return {}

    def screenshot(self, c):
        # The whole page, not only the window: as wide as the window, as tall as the content.
        tab = c.get("tab", "main")
        metrics = self.send("Page.getLayoutMetrics", session=tab)
        width = metrics["cssLayoutViewport"]["clientWidth"]
        height = max(metrics["cssContentSize"]["height"], metrics["cssLayoutViewport"]["clientHeight"])
        clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        params = {"format": "png", "clip": clip, "captureBeyondViewport": True}
        png = self.send("Page.captureScreenshot", params, session=tab)["data"]
        with open(c["path"], "wb") as f:
            f.write(base64.b64decode(png))
        return {}

    def record(self, c):
        with self.lock:
            self.noted = []
            # Windows opened before are not this journey's: wait_popup finds only windows (re)opened from now on.
            self.popups.clear()
        return {"t": time.time() * 1000}

    def timeline(self, c):
        with self.lock:
            events = list(self.noted or [])
        return {"events": events, "t": time.time() * 1000}
    def viewport(self, c):
        metrics = {"width": int(c["width"]), "height": int(c["height"]), "deviceScaleFactor": 1, "mobile": False}
        self.send("Emulation.setDeviceMetricsOverride", metrics, session="main")
        return {}

    def eval(self, c):
        return {"value": self.evaluate(c["expr"], c.get("tab", "main"))}

    def cdp(self, c):
        return {"result": self.send(c["method"], c.get("params", {}), session=c.get("tab", "main"))}

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    browser = Browser(sys.argv[1])
    print(json.dumps({"ok": True, "version": browser.send("Browser.getVersion")["product"]}), flush=True)
    try:
        for line in sys.stdin:
            c = json.loads(line)
            if c["cmd"] == "quit":
                break
            try:
                reply = {"ok": True, **getattr(browser, c["cmd"])(c)}
            except Exception as e:  # reported to the test, which fails with it
                reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
            print(json.dumps(reply), flush=True)
    finally:
        browser.close()


if __name__ == "__main__":
    main()
