"""A loopback stand-in for an OpenAI-compatible chat completions API, for the console page test.

Any POST answers by its body's model: "broken" is a 500; "stream": true is a server-sent event
stream whose first event comes FIRST_EVENT_DELAY to FIRST_EVENT_DELAY + 0.6 seconds after the
header (so the time to first token is visible), ending with a usage chunk and [DONE]; anything
else is a complete answer with usage after a short random delay.
"""

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIRST_EVENT_DELAY = 0.3


def _usage(prompt, completion):
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the test prints what fails
        pass

    def _send_json(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, text):
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _stream(self, model):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        time.sleep(FIRST_EVENT_DELAY + random.uniform(0, 0.6))
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1,
                "model": model}
        for word in ["Hello", " from", " the", " fake", " upstream"]:
            event = dict(base, choices=[{"index": 0, "delta": {"content": word}}])
            self._chunk("data: " + json.dumps(event) + "\n\n")
            time.sleep(0.02)
        done = dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])
        self._chunk("data: " + json.dumps(done) + "\n\n")
        usage = dict(base, choices=[], usage=_usage(random.randint(20, 80), 5))
        self._chunk("data: " + json.dumps(usage) + "\n\n")
        self._chunk("data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        model = str(body.get("model", ""))
        if model == "broken":
            time.sleep(random.uniform(0.005, 0.03))
            self._send_json(500, {"error": {"message": "the fake upstream is down",
                                            "type": "server_error"}})
            return
        if body.get("stream"):
            self._stream(model)
            return
        time.sleep(random.uniform(0.02, 0.16))
        self._send_json(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "Hi there"}}],
            "usage": _usage(random.randint(10, 400), random.randint(5, 120)),
        })


def start():
    """Serves on 127.0.0.1 on a free port in a daemon thread; returns the server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    running = start()
    print("fake upstream on port", running.server_address[1], flush=True)
    threading.Event().wait()
