"""Loopback HTTP servers for the `sigil call` transfer tests: redirects, timeouts, streamed bodies.

Two servers on two ports (a named credential's endpoint is one of them; the other is "another
host"), and a third port that listens but never accepts (its backlog is full, so a connection
attempt hangs: the connect timeout).

Paths, on either server, under any prefix (/api/redirect, /sigv4/loop/0):
- .../redirect?code=C&to=URL  answers C with `Location: URL` (relative or absolute, as given)
- .../loop/N                  answers 302 to loop/N+1 (relative), for ever
- .../silent                  reads the request and never answers (until the client goes, at most 60 s)
- .../download?mib=N          200 with N MiB of fixed text (hex digits), its SHA-256 in X-Content-SHA256
- /_log                       the requests received so far, as JSON (not logged itself)
- /sigv4/...                  as the others, and also checks the request's SigV4 signature with
                              botocore's signer ("sigv4": "valid", or the reason it is not)
- anything else            200 with JSON {"method", "path", "length", "sha256"} of the request;
                           the body is read in chunks (Content-Length or chunked), never kept whole

Every request is logged with its method, path, headers and body length and SHA-256. Writes
{"base_url", "other_url", "full_url", "access_key", "secret_key"} to argv[1] once it listens and
runs until its standard input closes.
"""
import datetime
import hashlib
import json
import os
import secrets
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BLOCK = b"".join(hashlib.sha256(i.to_bytes(4, "big")).hexdigest().encode() for i in range(16384))  # 1 MiB of text
ACCESS_KEY = "AKIA" + secrets.token_hex(8).upper()
SECRET_KEY = secrets.token_urlsafe(30)
log = []
lock = threading.Lock()


def check_sigv4(method, url, headers, payload_hash):
    """Recomputes the signature of a header-signed request with botocore, at its own X-Amz-Date."""
    authorization = headers.get("Authorization", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    fields = dict(part.strip().split("=", 1) for part in authorization[len("AWS4-HMAC-SHA256 "):].split(","))
    access_key, date, region, service, _ = fields["Credential"].split("/")
    if access_key != ACCESS_KEY:
        return "unknown access key"
    signed = fields["SignedHeaders"].split(";")
    request = AWSRequest(method=method, url=url, data=b"",
                         headers={name: value for name, value in headers.items() if name.lower() in signed})
    request.context["timestamp"] = headers["X-Amz-Date"]
    request.context["payload_signing_enabled"] = True
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, region)
    auth.payload = lambda _request: payload_hash
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    return "valid" if expected == fields["Signature"] else "SignatureDoesNotMatch; canonical request:\n" + canonical


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        """The body's length and SHA-256, read in chunks of at most 1 MiB."""
        digest, length = hashlib.sha256(), 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                remaining = size
                while remaining:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    digest.update(chunk)
                    remaining -= len(chunk)
                length += size
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                digest.update(chunk)
                length += len(chunk)
                remaining -= len(chunk)
        return length, digest.hexdigest()

    def handle_any(self):
        url = urlsplit(self.path)
        if url.path == "/_log":
            with lock:
                self.answer(200, json.dumps(log).encode(), [("Content-Type", "application/json")])
            return
        length, sha256 = self.read_body()
        entry = {"server": self.server.name, "method": self.command, "path": self.path,
                 "headers": [[name, value] for name, value in self.headers.items()], "length": length, "sha256": sha256}
        if url.path.startswith("/sigv4/"):
            host = self.headers.get("Host")
            payload = self.headers.get("X-Amz-Content-SHA256") or sha256
            entry["sigv4"] = check_sigv4(self.command, f"http://{host}{self.path}", self.headers, payload)
        with lock:
            log.append(entry)
        query = parse_qs(url.query)
        if url.path.endswith("/redirect"):
            self.answer(int(query["code"][0]), b"moved", [("Location", query["to"][0])])
        elif "/loop/" in url.path:
            self.answer(302, b"again", [("Location", str(int(url.path.rsplit("/", 1)[1]) + 1))])
        elif url.path.endswith("/download"):
            mebibytes = int(query["mib"][0])
            digest = hashlib.sha256()
            for _ in range(mebibytes):
                digest.update(BLOCK)
            self.send_response(200)
            self.send_header("Content-Length", str(mebibytes * len(BLOCK)))
            self.send_header("X-Content-SHA256", digest.hexdigest())
            self.end_headers()
            for _ in range(mebibytes):
                self.wfile.write(BLOCK)
        elif url.path.endswith("/silent"):
            deadline = time.monotonic() + 60
            self.connection.settimeout(0.2)
            while time.monotonic() < deadline:
                try:
                    if not self.connection.recv(1):
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
            self.close_connection = True
        else:
            body = {"method": self.command, "path": self.path, "length": length, "sha256": sha256}
            if "sigv4" in entry:
                body["sigv4"] = entry["sigv4"]
            self.answer(200, json.dumps(body).encode(), [("Content-Type", "application/json")])

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


def serve(name):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.name = name
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


main, other = serve("main"), serve("other")
# A listener whose accept queue is full: further connection attempts get no answer.
full = socket.socket()
full.bind(("127.0.0.1", 0))
full.listen(0)
fillers = []
for _ in range(4):
    filler = socket.socket()
    filler.setblocking(False)
    filler.connect_ex(full.getsockname())
    fillers.append(filler)
time.sleep(0.2)

with open(sys.argv[1] + ".tmp", "w") as out:
    json.dump({"base_url": f"http://127.0.0.1:{main.server_address[1]}", "other_url": f"http://127.0.0.1:{other.server_address[1]}",
               "full_url": f"http://127.0.0.1:{full.getsockname()[1]}", "access_key": ACCESS_KEY, "secret_key": SECRET_KEY}, out)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
sys.stdin.read()
main.shutdown()
other.shutdown()
for s in fillers + [full]:
    s.close()
