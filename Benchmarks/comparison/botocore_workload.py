"""`python3 botocore_workload.py N`: botocore signs the five-request SigV4 workload N times each
(the same requests as Sources/BenchmarkSupport/SigV4Workload.swift), printing each Authorization
once and the wall time per signature."""
import datetime
import sys
import time
from unittest import mock

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FQoGZXIvYXdzEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI"
NOW = datetime.datetime(2015, 8, 30, 12, 36, 0)
query = "&".join(f"filter%5B{i}%5D=caf%C3%A9%20{i}%2Bx" for i in range(10))
json_body = b'{"TableName":"Sigil","Item":{"id":{"S":"42"},"name":{"S":"benchmark"}}}'
ITEMS = [
    ("s3", None, "GET", "https://examplebucket.s3.amazonaws.com/photos/2015/test.jpg", [("Range", "bytes=0-1023")], b""),
    ("sts", TOKEN, "POST", "https://sts.amazonaws.com/", [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
     b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeployer&RoleSessionName=bench"),
    ("s3", None, "PUT", "https://examplebucket.s3.amazonaws.com/uploads/object.bin", [("Content-Type", "application/octet-stream")],
     bytes((i * 31) & 0xFF for i in range(1024))),
    ("execute-api", None, "GET", "https://abc123.execute-api.us-east-1.amazonaws.com/prod/items?" + query, [], b""),
    ("dynamodb", None, "POST", "https://dynamodb.us-east-1.amazonaws.com/",
     [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.PutItem")]
     + [(f"X-Custom-Header-{i}", f"value   {i} with  spaces") for i in range(18)], json_body),
]
S3_CONFIG = Config(s3={"payload_signing_enabled": True})


def sign(service, token, method, url, headers, body):
    signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(KEY, SECRET, token), service, "us-east-1")
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value
    if body:
        request.headers["Content-Length"] = str(len(body))  # as Go's http.Request and Sigil's workload carry it
    if service == "s3":
        request.context["client_config"] = S3_CONFIG
    signer.add_auth(request)
    return request.headers["Authorization"]


rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
    start = time.perf_counter_ns()
    for _ in range(rounds):
        for item in ITEMS:
            sign(*item)
    elapsed = time.perf_counter_ns() - start
    for item in ITEMS:
        print(sign(*item))
print(f"botocore ns/signature {elapsed // (rounds * len(ITEMS))}")
