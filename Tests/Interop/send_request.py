"""Sends the request `sigil sign --json` printed (read from stdin) exactly as given, and prints
{"status", "body"}: a plain HTTP client for the acceptance tests, adding only Content-Length."""
import base64
import http.client
import json
import sys
from urllib.parse import urlsplit

request = json.load(sys.stdin)
url = urlsplit(request["url"])
body = base64.b64decode(request["body_base64"]) if request.get("body_base64") else None
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
connection.putrequest(request["method"], url.path + ("?" + url.query if url.query else ""), skip_host=True, skip_accept_encoding=True)
names = {name.lower() for name, _ in request["headers"]}
if "host" not in names:
    connection.putheader("Host", url.netloc)
for name, value in request["headers"]:
    connection.putheader(name, value)
connection.putheader("Content-Length", str(len(body or b"")))
connection.endheaders(body)
response = connection.getresponse()
print(json.dumps({"status": response.status, "body": response.read().decode("utf-8", "replace")}))
