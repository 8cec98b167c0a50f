"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe).

Chromium reads commands from its fd 3 and writes answers and events to its fd 4, each a JSON
message ended by a NUL byte: no port, no WebSocket, nothing but the standard library. Used
instead of --dump-dom with --virtual-time-budget because virtual time runs the page's poll
timer back to back (ten polls in a tenth of a second of real time), so a live page would never
see traffic arrive between two of its polls.
"""

import fcntl
import json
import os
import threading
import time


class CdpError(RuntimeError):
    pass


class Chromium:
    def __init__(self, binary, args, log_path):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Above 4, so that the dup2s onto 3 and 4 below cannot clobber one another.
        child_in = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
            (os.POSIX_SPAWN_DUP2, child_in, 3),
            (os.POSIX_SPAWN_DUP2, child_out, 4),
        ]
        self.pid = os.posix_spawn(binary, [binary, "--remote-debugging-pipe", *args],
                                  os.environ, file_actions=actions)
        os.close(child_in)
        os.close(child_out)
        self._out = to_child_w
        self._in = from_child_r
        self._next_id = 0
        self._answers = {}
        self.events = []
        self._cv = threading.Condition()
        self._closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        pending = b""
        while True:
            data = os.read(self._in, 1 << 20)
            if not data:
                break
            pending += data
            *messages, pending = pending.split(b"\0")
            with self._cv:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._answers[message["id"]] = message
                    else:
                        self.events.append(message)
                self._cv.notify_all()
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def send(self, method, params=None, session=None, timeout=20):
        with self._cv:
            self._next_id += 1
            ident = self._next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._cv:
            while ident not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise CdpError(method + ": no answer from chromium")
                self._cv.wait(left)
            answer = self._answers.pop(ident)
        if "error" in answer:
            raise CdpError(method + ": " + json.dumps(answer["error"]))
        return answer.get("result", {})

    def open_page(self, width, height):
        """A new tab of `width` x `height` CSS pixels; returns its session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        for method in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.send(method, session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        return session

    def evaluate(self, session, expression):
        result = self.send("Runtime.evaluate",
                           {"expression": expression, "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise CdpError("evaluate: " + json.dumps(result["exceptionDetails"]))
        return result["result"].get("value")

    def problems(self):
        """Uncaught exceptions and error-level log entries (CSP violations among them)."""
        found = []
        with self._cv:
            for event in self.events:
                params = event.get("params", {})
                if event.get("method") == "Runtime.exceptionThrown":
                    found.append(json.dumps(params.get("exceptionDetails", {}))[:500])
                elif event.get("method") == "Log.entryAdded":
                    entry = params.get("entry", {})
                    # Network errors are the 401s the page gets before it has a token.
                    if entry.get("level") == "error" and entry.get("source") != "network":
                        found.append(entry.get("text", "")[:500])
        return found

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except CdpError:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return
            time.sleep(0.1)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
