"""Signs requests with botocore, the reference SigV4 signer, for Sigil's differential test.

Reads a JSON list of cases from argv[1]:
  {"id", "method", "url", "headers": [[name, value]...], "body_hex", "service", "region",
   "access_key", "secret_key", "token" (or null), "time" (YYYYMMDDTHHMMSSZ), "unsigned": bool,
   "presign_expires" (or null)}
Prints a JSON list of {"id", "authorization" | "url", "headers": [[name, value]...],
"canonical_request"}.
"""
import datetime
import json
import sys
from unittest import mock

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

results = []
for case in json.load(open(sys.argv[1])):
    credentials = Credentials(case["access_key"], case["secret_key"], case.get("token"))
    s3 = case["service"].startswith("s3")
    expires = case.get("presign_expires")
    if expires is not None:
        signer = (S3SigV4QueryAuth if s3 else SigV4QueryAuth)(credentials, case["service"], case["region"], expires=expires)
    else:
        signer = (S3SigV4Auth if s3 else SigV4Auth)(credentials, case["service"], case["region"])
    request = AWSRequest(method=case["method"], url=case["url"], data=bytes.fromhex(case["body_hex"]))
    for name, value in case["headers"]:
        request.headers[name] = value  # HTTPHeaders appends: repeated names stay repeated
    if s3:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": not case["unsigned"]})
    else:
        request.context["payload_signing_enabled"] = not case["unsigned"]
    now = datetime.datetime.strptime(case["time"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=now):
        signer.add_auth(request)
        canonical = signer.canonical_request(request)
    result = {"id": case["id"], "headers": [[k, v] for k, v in request.headers.items()], "canonical_request": canonical}
    if expires is not None:
        result["url"] = request.url
    else:
        result["authorization"] = request.headers["Authorization"]
    results.append(result)
print(json.dumps(results))
