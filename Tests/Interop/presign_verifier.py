"""A loopback HTTP server that verifies SigV4 presigned URLs (query signing) with botocore's code,
for Sigil's presign acceptance test.

Why not moto: moto's server (5.2.1, authentication on) verifies only header-signed requests. Every
check goes through moto/core/authorization.py (`_authenticate_and_authorize_action` builds an
`IAMRequest`/`S3IAMRequest`), and `IAMRequestBase.__init__` in moto/iam/access_control.py reads
`self._headers["Authorization"]` unconditionally (line 233), so a query-signed request, which has
no Authorization header, fails with a KeyError: HTTP 500 for any presigned URL, valid or not
(botocore's own included). With authentication off moto serves presigned URLs without checking
them at all. moto has no setting that changes this.

So this server does what AWS does with a presigned request: it reconstructs the request it
received (method, path as sent, query decoded and re-encoded, the headers named in
X-Amz-SignedHeaders, the X-Amz-Date from the URL) as a botocore `AWSRequest`, lets botocore's
`SigV4QueryAuth` / `S3SigV4QueryAuth` compute the canonical request, string to sign and signature
with the key it knows, and compares. It also checks the algorithm, the credential scope (known
access key, date, region us-east-1, aws4_request), the session token of the temporary key, and
the expiry (X-Amz-Expires 1..604800 seconds after X-Amz-Date, at most 15 minutes early; checked
after the signature, so "Request has expired" also means the signature was right).

Writes {"endpoint", "access_key", "secret_key", "temporary_access_key", "temporary_secret_key",
"session_token", "region"} (fresh random keys) as JSON to the file named by argv[1] and serves until
standard input closes. A verified request gets 200 and a JSON body {"verified": true, "method",
"path", "query", "service", "access_key", "body_length"}; a refused one an S3-style XML error (403,
or 400 for malformed parameters) that, for SignatureDoesNotMatch, includes the canonical request
(never a secret).
"""
import calendar
import hmac
import json
import os
import secrets
import string
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4QueryAuth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
MAX_EXPIRES = 604800
CLOCK_SKEW = 900


def random_key(prefix):
    return prefix + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))


KEYS = {  # access key -> (secret key, session token or None)
    random_key("AKIA"): (secrets.token_urlsafe(30), None),
    random_key("ASIA"): (secrets.token_urlsafe(30), secrets.token_urlsafe(60)),
}


class Refused(Exception):
    def __init__(self, status, code, message, canonical_request=None):
        super().__init__(message)
        self.status, self.code, self.message, self.canonical_request = status, code, message, canonical_request


def verify(method, raw_target, headers, body):
    """Returns the verified request's description, or raises Refused."""
    path, _, raw_query = raw_target.partition("?")
    pairs = []
    for item in raw_query.split("&") if raw_query else []:
        key, _, value = item.partition("=")
        pairs.append((unquote(key), unquote(value)))
    auth = {}
    for key, value in pairs:
        if key.startswith("X-Amz-"):
            if key in auth:
                raise Refused(400, "AuthorizationQueryParametersError", f"{key} appears twice")
            auth[key] = value
    required = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"]
    missing = [name for name in required if name not in auth]
    if missing:
        raise Refused(400, "AuthorizationQueryParametersError", "missing " + ", ".join(missing))
    if auth["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise Refused(400, "AuthorizationQueryParametersError", "X-Amz-Algorithm must be AWS4-HMAC-SHA256")

    scope = auth["X-Amz-Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise Refused(400, "AuthorizationQueryParametersError", "malformed X-Amz-Credential")
    access_key, day, region, service, _ = scope
    if access_key not in KEYS:
        raise Refused(403, "InvalidAccessKeyId", "The AWS access key ID does not exist in our records.")
    secret_key, token = KEYS[access_key]
    if auth.get("X-Amz-Security-Token") != token:
        raise Refused(403, "InvalidToken", "The provided token is missing, malformed or not the key's.")
    try:
        signed_at = calendar.timegm(time.strptime(auth["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise Refused(400, "AuthorizationQueryParametersError", "X-Amz-Date must be YYYYMMDDTHHMMSSZ") from None
    if day != auth["X-Amz-Date"][:8]:
        raise Refused(400, "AuthorizationQueryParametersError", "the credential scope's date is not X-Amz-Date's")
    if region != REGION:
        raise Refused(400, "AuthorizationQueryParametersError", f"the region '{region}' is wrong; expecting '{REGION}'")
    expires = auth["X-Amz-Expires"]
    if not expires.isdigit() or not 1 <= int(expires) <= MAX_EXPIRES:
        raise Refused(400, "AuthorizationQueryParametersError", f"X-Amz-Expires must be 1 to {MAX_EXPIRES}")

    signed_names = auth["X-Amz-SignedHeaders"].split(";")
    if "host" not in signed_names or "Host" not in headers:
        raise Refused(403, "AccessDenied", "the host header must be sent and signed")
    request_headers = []
    for name in signed_names:
        values = headers.get_all(name)
        if not values:
            raise Refused(403, "AccessDenied", f"signed header {name} is missing from the request")
        request_headers += [(name, value) for value in values]

    # The request as received, for botocore: the query (without the signature) as decoded
    # parameters, which botocore re-encodes and sorts; the path exactly as sent; the URL's time.
    signer_class = S3SigV4QueryAuth if service.startswith("s3") else SigV4QueryAuth
    signer = signer_class(Credentials(access_key, secret_key, token), service, region, expires=int(expires))
    request = AWSRequest(method=method, url="http://" + headers["Host"] + path, data=body,
                         params=[(key, value) for key, value in pairs if key != "X-Amz-Signature"])
    for name, value in request_headers:
        request.headers[name] = value
    request.context["timestamp"] = auth["X-Amz-Date"]
    canonical_request = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical_request), request)
    if not hmac.compare_digest(expected, auth["X-Amz-Signature"]):
        raise Refused(403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you provided.", canonical_request)
    # Checked after the signature, so that "expired" also says the signature was right.
    now = time.time()
    if now < signed_at - CLOCK_SKEW:
        raise Refused(403, "AccessDenied", "Request is not valid yet")
    if now > signed_at + int(expires):
        raise Refused(403, "AccessDenied", "Request has expired")
    return {"verified": True, "method": method, "path": path,
            "query": [[key, value] for key, value in pairs if not key.startswith("X-Amz-")],
            "service": service, "access_key": access_key, "body_length": len(body)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            status, content_type, payload = 200, "application/json", json.dumps(verify(self.command, self.path, self.headers, body))
        except Refused as refused:
            status, content_type = refused.status, "application/xml"
            canonical = f"<CanonicalRequest>{escape(refused.canonical_request)}</CanonicalRequest>" if refused.canonical_request else ""
            payload = f"<Error><Code>{refused.code}</Code><Message>{escape(refused.message)}</Message>{canonical}</Error>"
        data = payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    def log_message(self, format, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
(permanent, (permanent_secret, _)), (temporary, (temporary_secret, token)) = KEYS.items()
with open(sys.argv[1] + ".tmp", "w") as out:
    json.dump({"endpoint": f"http://127.0.0.1:{server.server_address[1]}", "region": REGION,
               "access_key": permanent, "secret_key": permanent_secret,
               "temporary_access_key": temporary, "temporary_secret_key": temporary_secret, "session_token": token}, out)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
sys.stdin.read()
server.shutdown()
