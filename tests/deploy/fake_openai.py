#!/usr/bin/env python3
"""A tiny OpenAI-compatible upstream for deploy/compose-smoke.sh, on the host's loopback.

  fake_openai.py PORT_FILE [LIFETIME_S]

Listens on 127.0.0.1 on a free port, writes the port to PORT_FILE, and answers
POST .../chat/completions (JSON, or SSE with "stream": true) when the request carries
"Authorization: Bearer sk-fake-upstream"; a stream spaces its words by 20 ms (400 ms for the
model "slow-stream"). GET /count answers {"chat": N}, the number of chat
completions served. Exits by itself after LIFETIME_S seconds (default 900).
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY = "sk-fake-upstream"
REPLY = "Hello from the fake upstream!"
lock = threading.Lock()
served = {"chat": 0}


def dumps(value):
    return json.dumps(value, separators=(",", ":"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def answer(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/count":
            with lock:
                self.answer(200, dumps(served))
        else:
            self.answer(404, '{"error":{"message":"not found"}}')

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        if not self.path.endswith("/chat/completions"):
            self.answer(404, '{"error":{"message":"not found"}}')
            return
        if self.headers.get("authorization") != "Bearer " + KEY:
            self.answer(401, '{"error":{"message":"bad key","type":"invalid_request_error"}}')
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self.answer(400, '{"error":{"message":"not json"}}')
            return
        with lock:
            served["chat"] += 1
        model = body.get("model", "gpt-4o-mini")
        usage = {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15}
        created = int(time.time())
        if not body.get("stream"):
            self.answer(200, dumps({
                "id": "chatcmpl-fake", "object": "chat.completion", "created": created,
                "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": REPLY}}],
                "usage": usage}))
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()

        def chunk(delta, finish=None, **extra):
            event = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                     "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            event.update(extra)
            self.wfile.write(b"data: " + dumps(event).encode() + b"\n\n")
            self.wfile.flush()

        chunk({"role": "assistant", "content": ""})
        pause = 0.4 if model == "slow-stream" else 0.02  # slow-stream: about 2 s in all
        for word in REPLY.split(" "):
            chunk({"content": word + " "})
            time.sleep(pause)
        chunk({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            self.wfile.write(b"data: " + dumps({
                "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                "model": model, "choices": [], "usage": usage}).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


def main():
    port_file = sys.argv[1]
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 900.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.replace(port_file + ".tmp", port_file)
    threading.Timer(lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
