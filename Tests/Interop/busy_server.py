"""A loopback HTTP server for the retry tests: each path answers 503 (with Retry-After: 1 when the
path starts with /after) for the first N requests, where N is the number in the path's first
segment after the prefix (/busy/2/x, /after/1/x), then 200 with the count. GET /_count?path=P gives
how many requests P received. Writes {"base_url"} to argv[1] once it listens; runs until its
standard input closes."""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

counts = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if url.path == "/_count":
            with lock:
                self.answer(200, str(counts.get(parse_qs(url.query)["path"][0], 0)))
            return
        with lock:
            counts[url.path] = counts.get(url.path, 0) + 1
            seen = counts[url.path]
        parts = url.path.strip("/").split("/")
        failures = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if seen <= failures:
            extra = [("Retry-After", "1")] if parts[0] == "after" else []
            self.answer(503, "busy", extra)
        else:
            self.answer(200, f"ok after {seen}")

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as out:
    json.dump({"base_url": f"http://127.0.0.1:{server.server_address[1]}"}, out)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
server.shutdown()
