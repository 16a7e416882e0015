"""A hostile OAuth 2.0 token endpoint for Sigil's hostile-peer suite (scripts/hostile-peers).

It answers token requests the way broken, overloaded or malicious providers do: too late or never,
with 50 MB bodies, bodies that are not what RFC 6749 section 5.1 promises, bodies cut off midway,
absurd expires_in values, 5xx and 429 bursts, and refusals. Plain Python (http.server), no packages.

Usage:  python3 hostile_token_server.py [CONFIG.json] INFO.json
  Binds 127.0.0.1 on a free port, writes INFO.json atomically (INFO.json.tmp, then rename) once the
  socket listens, serves (threaded) until its standard input reaches end-of-file, then exits 0.
  Standard input must therefore be a pipe held open by the test (not /dev/null). Nothing is logged
  per request; stderr carries only start-up errors and tracebacks of server bugs. (The same
  contract as Tests/Interop/oauth_server.py.)

The behaviour is chosen per request path:  POST /case/NAME/token
  NAME is looked up in CONFIG's "cases"; a NAME not configured is taken as a behaviour name with
  its defaults (so /case/never/token or /case/not-json/token work without a config file). Every
  case keeps its own counters, so one server serves a whole suite.

CONFIG.json (every key optional):
  {
    "client_id": "hostile-client",            # client_secret_basic credentials the endpoint expects
    "client_secret": "hostile-secret",        #   (a wrong pair gets 401 invalid_client, counted)
    "cases": {
      "NAME": {
        "behaviour": "slow",                  # see BEHAVIOURS below (default: NAME itself)
        "grants": ["client_credentials", "refresh_token"],  # grant types that get the behaviour;
                                              #   other grants get a good answer (default: all)
        "times": 3,                           # only the first N such requests are hostile, the rest
                                              #   get a good answer (default: every one)
        "good_expires_in": "3600",            # expires_in of good answers, as raw JSON text; or an
                                              #   object {grant_type: text} (default "3600")
        "first_expires_in": "2",              # expires_in of the case's first good answer (a seed
                                              #   that expires soon), when set
        ...                                   # the behaviour's parameters, below
      }
    }
  }

BEHAVIOURS (parameters, defaults):
  good                a valid answer: access_token, token_type Bearer, expires_in, refresh_token
  slow                waits `seconds` (35) before a good answer (the client may be gone by then)
  slow-first          the case's first token request waits `seconds` (30) and is then closed without
                      an answer; later ones get a good answer at once (`times` 1 by default: "first"
                      is the first request counted as hostile, so a test that needs that request to
                      be the one held waits for `hostile` 1 in /_stats before sending others)
  never               reads the request, never answers (the connection stays open until shutdown)
  closed              reads the request, closes the connection without a status line
  huge                200, a JSON object of `bytes` (50 MB) streamed in chunked encoding
  huge-length         the same with Content-Length: the size is announced up front
  not-json            200, text/html
  json-array          200, a JSON array holding a good answer
  token-number        200, access_token is a number
  token-control       200, access_token holds control characters and CR LF + a header line
  type-missing        200, no token_type
  type-mac            200, token_type "mac"
  truncated           200 with Content-Length, 40% of the body sent, then the connection closed
  truncated-chunked   200 chunked, a chunk announced as 1024 bytes, 100 sent, then closed
  expires             200, a good answer with "expires_in": `expires_in` (raw JSON text, "1")
  status              `status` (503) with `body` (an HTML page) and, when set, `retry_after`
  error               `status` (400), {"error": `error` ("invalid_client"), "error_description": ...}
  error-echo          400 invalid_client whose error_description repeats the client secret the
                      request presented (a provider that echoes what it got)
Refresh tokens: good answers carry a new refresh token; a refresh_token grant presenting a token
this server never issued (for that case) gets 400 invalid_grant, counted as refresh_unknown.

INFO.json:  {"base_url": "http://127.0.0.1:PORT", "token_url_template": BASE+"/case/{case}/token",
             "pid": PID}
Test-only endpoints (loopback only):
  GET /_stats[?case=NAME]   counters per case: requests, by_grant, hostile, good, statuses,
                            issued (access tokens given in good answers), refresh_unknown,
                            auth_failures, in_flight, max_in_flight, arrivals (seconds since start)

Every token this server issues starts with "hpat-" (access) or "hprt-" (refresh), so a suite can
tell whether a message quotes one.
"""
import base64
import json
import os
import secrets
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULTS = {
    "slow": {"seconds": 35},
    "slow-first": {"seconds": 30, "times": 1},
    "huge": {"bytes": 50 * 1024 * 1024},
    "huge-length": {"bytes": 50 * 1024 * 1024},
    "expires": {"expires_in": "1"},
    "status": {"status": 503},
    "error": {"status": 400, "error": "invalid_client", "error_description": "Client authentication failed"},
}
BEHAVIOURS = {"good", "slow", "slow-first", "never", "closed", "huge", "huge-length", "not-json", "json-array", "token-number",
              "token-control", "type-missing", "type-mac", "truncated", "truncated-chunked", "expires", "status",
              "error", "error-echo"}
NEVER_LIMIT = 600  # seconds a `never` handler waits at most (the server normally ends first)
CHUNK = 64 * 1024

STARTED = time.monotonic()
SHUTDOWN = threading.Event()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.cases = {}

    def case(self, name):
        return self.cases.setdefault(name, {
            "requests": 0, "by_grant": {}, "hostile": 0, "good": 0, "statuses": {}, "issued": [],
            "refresh_issued": [], "refresh_unknown": 0, "auth_failures": 0, "in_flight": 0, "max_in_flight": 0,
            "arrivals": []})

    def snapshot(self, name=None):
        with self.lock:
            data = json.loads(json.dumps(self.cases))
        for entry in data.values():
            entry.pop("refresh_issued", None)
        return data.get(name, Stats().case(name)) if name else data


STATS = Stats()
CONFIG = {"client_id": "hostile-client", "client_secret": "hostile-secret", "cases": {}}


def spec_of(name):
    """The case's settings: its configured entry, else NAME as a behaviour, over the defaults."""
    entry = dict(CONFIG["cases"].get(name) or {"behaviour": name})
    behaviour = entry.get("behaviour", name)
    if behaviour not in BEHAVIOURS:
        return None
    merged = dict(DEFAULTS.get(behaviour, {}))
    merged.update(entry)
    merged["behaviour"] = behaviour
    return merged


def good_body(case, spec, grant):
    """A valid RFC 6749 answer; its tokens are recorded as issued for the case."""
    n = secrets.token_hex(6)
    access, refresh = f"hpat-{case}-{n}", f"hprt-{case}-{n}"
    expires = spec.get("good_expires_in", "3600")
    if isinstance(expires, dict):
        expires = expires.get(grant, "3600")
    with STATS.lock:
        entry = STATS.case(case)
        if spec.get("first_expires_in") is not None and not entry["refresh_issued"]:
            expires = spec["first_expires_in"]
        entry["issued"].append(access)
        entry["refresh_issued"].append(refresh)
    return (f'{{"access_token": "{access}", "token_type": "Bearer", "expires_in": {expires}, '
            f'"refresh_token": "{refresh}", "scope": "read"}}').encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile/1"

    def log_message(self, *args):
        pass

    # -- plumbing ---------------------------------------------------------------------------------

    def send(self, status, body, content_type="application/json", headers=()):
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def hang_up(self):
        """Closes the connection at once, whatever was (not) sent."""
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def start_chunked(self, status=200):
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()

    def chunk(self, data):
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_stats":
            case = urllib.parse.parse_qs(url.query).get("case", [None])[0]
            self.send(200, json.dumps(STATS.snapshot(case)).encode())
        else:
            self.send(404, b'{"error": "not_found"}')

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace")) if length else {}
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "case" or parts[2] != "token":
            return self.send(404, b'{"error": "invalid_request", "error_description": "POST /case/NAME/token"}')
        case, spec = parts[1], spec_of(parts[1])
        self.case_name = case if spec is not None else None
        if spec is None:
            return self.send(404, b'{"error": "invalid_request", "error_description": "unknown case"}')
        grant = (form.get("grant_type") or [""])[0]
        with STATS.lock:
            entry = STATS.case(case)
            entry["requests"] += 1
            entry["by_grant"][grant] = entry["by_grant"].get(grant, 0) + 1
            entry["arrivals"].append(round(time.monotonic() - STARTED, 3))
            entry["in_flight"] += 1
            entry["max_in_flight"] = max(entry["max_in_flight"], entry["in_flight"])
        try:
            self.answer(case, spec, grant, form)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True  # the client gave up: expected with hostile answers
        finally:
            with STATS.lock:
                STATS.case(case)["in_flight"] -= 1

    # -- the token endpoint ---------------------------------------------------------------------

    def presented_secret(self):
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return None, None
        try:
            pair = base64.b64decode(header[6:]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None, None
        client, _, secret = pair.partition(":")
        return urllib.parse.unquote_plus(client), urllib.parse.unquote_plus(secret)

    def count(self, case, key):
        with STATS.lock:
            STATS.case(case)[key] += 1

    def send_response(self, code, message=None):
        case = getattr(self, "case_name", None)
        if case:
            with STATS.lock:
                statuses = STATS.case(case)["statuses"]
                statuses[str(code)] = statuses.get(str(code), 0) + 1
        super().send_response(code, message)

    def answer(self, case, spec, grant, form):
        client, secret = self.presented_secret()
        if (client, secret) != (CONFIG["client_id"], CONFIG["client_secret"]) and spec["behaviour"] != "error-echo":
            self.count(case, "auth_failures")
            return self.send(401, b'{"error": "invalid_client"}', headers=[("WWW-Authenticate", 'Basic realm="token"')])
        grants = spec.get("grants")
        hostile = grants is None or grant in grants
        if hostile and spec.get("times") is not None:
            with STATS.lock:
                hostile = STATS.case(case)["hostile"] < int(spec["times"])
        if not hostile or spec["behaviour"] == "good":
            return self.good(case, spec, grant, form)
        self.count(case, "hostile")
        getattr(self, "b_" + spec["behaviour"].replace("-", "_"))(case, spec, grant, form, secret)

    def good(self, case, spec, grant, form):
        if grant == "refresh_token":
            presented = (form.get("refresh_token") or [""])[0]
            with STATS.lock:
                known = presented in STATS.case(case)["refresh_issued"]
            if not known:
                self.count(case, "refresh_unknown")
                return self.send(400, b'{"error": "invalid_grant", "error_description": "unknown refresh token"}')
        elif grant != "client_credentials":
            return self.send(400, b'{"error": "unsupported_grant_type"}')
        self.count(case, "good")
        self.send(200, good_body(case, spec, grant))

    def b_slow(self, case, spec, grant, form, _):
        if not SHUTDOWN.wait(float(spec["seconds"])):
            self.good(case, spec, grant, form)

    def b_slow_first(self, case, spec, *_):
        SHUTDOWN.wait(float(spec["seconds"]))
        self.hang_up()

    def b_never(self, *_):
        SHUTDOWN.wait(NEVER_LIMIT)
        self.hang_up()

    def b_closed(self, *_):
        self.hang_up()

    def huge_parts(self, case, spec):
        head = f'{{"access_token": "hpat-{case}-huge", "token_type": "Bearer", "expires_in": 3600, "padding": "'.encode()
        tail = b'"}'
        return head, max(0, int(spec["bytes"]) - len(head) - len(tail)), tail

    def b_huge(self, case, spec, *_):
        head, padding, tail = self.huge_parts(case, spec)
        self.start_chunked()
        self.chunk(head)
        block = b"x" * CHUNK
        while padding > 0 and not SHUTDOWN.is_set():
            n = min(CHUNK, padding)
            self.chunk(block[:n])
            padding -= n
        self.chunk(tail)
        self.wfile.write(b"0\r\n\r\n")

    def b_huge_length(self, case, spec, *_):
        head, padding, tail = self.huge_parts(case, spec)
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(head) + padding + len(tail)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(head)
        block = b"x" * CHUNK
        while padding > 0 and not SHUTDOWN.is_set():
            n = min(CHUNK, padding)
            self.wfile.write(block[:n])
            padding -= n
        self.wfile.write(tail)

    def b_not_json(self, case, *_):
        self.send(200, f"<html><body>Service temporarily unavailable hpat-{case}-html</body></html>".encode(), "text/html")

    def b_json_array(self, case, spec, grant, *_):
        self.send(200, b"[" + good_body(case, spec, grant) + b"]")

    def b_token_number(self, *_):
        self.send(200, b'{"access_token": 12345678901234567890, "token_type": "Bearer", "expires_in": 3600}')

    def b_token_control(self, case, *_):
        token = f"hpat-{case}-\u0000\u0007bell\r\nX-Injected: yes"
        self.send(200, json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 3600}).encode())

    def b_type_missing(self, case, *_):
        self.send(200, f'{{"access_token": "hpat-{case}-notype", "expires_in": 3600}}'.encode())

    def b_type_mac(self, case, *_):
        self.send(200, json.dumps({"access_token": f"hpat-{case}-mac", "token_type": "mac", "expires_in": 3600,
                                   "mac_key": "adijq39jdlaska9asud", "mac_algorithm": "hmac-sha-256"}).encode())

    def b_truncated(self, case, spec, grant, *_):
        body = good_body(case, spec, grant)
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: len(body) * 2 // 5])
        self.hang_up()

    def b_truncated_chunked(self, case, *_):
        self.start_chunked()
        self.wfile.write(b"400\r\n" + f'{{"access_token": "hpat-{case}-cut", "token_type": "Bearer", '.encode().ljust(100, b" "))
        self.hang_up()

    def b_expires(self, case, spec, *_):
        n = secrets.token_hex(6)
        access = f"hpat-{case}-{n}"
        with STATS.lock:
            STATS.case(case)["issued"].append(access)
        self.send(200, f'{{"access_token": "{access}", "token_type": "Bearer", "expires_in": {spec["expires_in"]}}}'.encode())

    def b_status(self, case, spec, *_):
        status = int(spec["status"])
        headers = [("Retry-After", str(spec["retry_after"]))] if spec.get("retry_after") is not None else []
        body = spec.get("body", f"<html><body><h1>{status}</h1>upstream trouble</body></html>")
        self.send(status, body.encode(), "text/html", headers)

    def b_error(self, case, spec, *_):
        body = {"error": spec["error"]}
        if spec.get("error_description"):
            body["error_description"] = spec["error_description"]
        self.send(int(spec["status"]), json.dumps(body).encode())

    def b_error_echo(self, case, spec, grant, form, secret):
        self.send(400, json.dumps({"error": "invalid_client", "error_description":
                                   f"client secret '{secret}' is not valid for client {CONFIG['client_id']}"}).encode())


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 64


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: hostile_token_server.py [CONFIG.json] INFO.json")
    info_path = sys.argv[-1]
    if len(sys.argv) == 3:
        with open(sys.argv[1]) as f:
            loaded = json.load(f)
        CONFIG.update({k: v for k, v in loaded.items() if k != "cases"})
        CONFIG["cases"] = dict(loaded.get("cases") or {})
        bad = {name: c.get("behaviour", name) for name, c in CONFIG["cases"].items()
               if c.get("behaviour", name) not in BEHAVIOURS}
        if bad:
            sys.exit(f"hostile_token_server: unknown behaviour(s): {bad}")
    server = Server(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    info = {"base_url": base, "token_url_template": base + "/case/{case}/token", "pid": os.getpid()}
    with open(info_path + ".tmp", "w") as f:
        json.dump(info, f)
    os.replace(info_path + ".tmp", info_path)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except KeyboardInterrupt:
        pass
    SHUTDOWN.set()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
