"""Verifies JWTs signed by Sigil with joserfc, an independent implementation.

Reads a JSON list of cases from the file named by argv[1]:
  {"name", "alg", "token", "key": path to a public key PEM (or hex HMAC key for HS*), "tamper": bool}
Prints a JSON list of {"name", "ok", "header", "claims", "error"}. A tampered case flips one bit
of the signature first and must fail.
"""
import json
import sys
import warnings

from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

warnings.simplefilter("ignore")

def load_key(case):
    alg = case["alg"]
    if alg.startswith("HS"):
        return OctKey.import_key(bytes.fromhex(case["key"]))
    pem = open(case["key"], "rb").read()
    if alg.startswith(("RS", "PS")):
        return RSAKey.import_key(pem)
    if alg.startswith("ES"):
        return ECKey.import_key(pem)
    return OKPKey.import_key(pem)

results = []
for case in json.load(open(sys.argv[1])):
    token = case["token"]
    if case.get("tamper"):
        head, body, signature = token.split(".")
        first = "A" if signature[0] != "A" else "B"
        token = ".".join([head, body, first + signature[1:]])
    try:
        decoded = jwt.decode(token, load_key(case), algorithms=[case["alg"]])
        results.append({"name": case["name"], "ok": True, "header": decoded.header, "claims": decoded.claims})
    except Exception as error:  # noqa: BLE001 - any failure is a verification failure
        results.append({"name": case["name"], "ok": False, "error": f"{type(error).__name__}: {error}"})
print(json.dumps(results))
