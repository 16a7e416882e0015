"""Self-test of oauth_server.py: starts it as Sigil's tests do and exercises every endpoint and grant as
a client (urllib + joserfc + xmlsec1), with negative cases. Documents the contract by example.

Run:  python3 Tests/Interop/oauth_server_selftest.py      (exit status 0 = all passed; about 10 s)
"""
import base64
import datetime
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import import_key

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "oauth_server.py")
WORK = tempfile.mkdtemp(prefix="oauth-selftest-")
RESULTS = {"passed": 0, "failed": 0}


def check(condition, what, detail=None):
    if condition:
        RESULTS["passed"] += 1
    else:
        RESULTS["failed"] += 1
        print(f"FAIL: {what}" + (f" -- {detail}" if detail is not None else ""), file=sys.stderr)
    return condition


# --- keys and certificates -------------------------------------------------------------------------
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def pem_public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def self_signed(key, name):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


JWT_KEY, OTHER_KEY, BEARER_RSA, BEARER_EC = rsa_key(), rsa_key(), rsa_key(), ec.generate_private_key(ec.SECP256R1())
IDP_KEY, EVIL_KEY = rsa_key(), rsa_key()
IDP_CERT, EVIL_CERT = self_signed(IDP_KEY, "idp"), self_signed(EVIL_KEY, "evil")
REDIRECT = "http://127.0.0.1:53682/callback"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SAML2 = "urn:ietf:params:oauth:grant-type:saml2-bearer"


def config(**top):
    return dict(top, clients=[
        {"client_id": "svc-basic", "client_secret": "s3cret-basic", "token_endpoint_auth_method": "client_secret_basic",
         "grant_types": ["client_credentials", "refresh_token"], "scope": "read write"},
        {"client_id": "svc-post", "client_secret": "s3cret-post", "token_endpoint_auth_method": "client_secret_post",
         "grant_types": ["client_credentials"], "scope": "read"},
        {"client_id": "svc-jwt", "token_endpoint_auth_method": "private_key_jwt", "public_key_pem": pem_public(JWT_KEY),
         "grant_types": ["client_credentials"], "scope": "read"},
        {"client_id": "app", "client_secret": "s3cret-app", "token_endpoint_auth_method": "client_secret_basic",
         "grant_types": ["authorization_code", "refresh_token", DEVICE], "redirect_uris": [REDIRECT], "scope": "read"},
        {"client_id": "bearer", "token_endpoint_auth_method": "none", "public_key_pem": pem_public(BEARER_RSA),
         "grant_types": [JWT_BEARER], "scope": "api"},
        {"client_id": "bearer-ec", "client_secret": "s3cret-ec", "token_endpoint_auth_method": "client_secret_basic",
         "public_key_pem": pem_public(BEARER_EC), "grant_types": [JWT_BEARER], "scope": "api"},
        {"client_id": "saml", "token_endpoint_auth_method": "none", "grant_types": [SAML2, "assertion"],
         "scope": "api", "saml_idp_certificate_pem": IDP_CERT, "saml_issuer": "https://idp.example"},
    ])


# --- HTTP as a client ------------------------------------------------------------------------------
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(method, url, form=None, auth=None, bearer=None):
    """Returns (status, parsed JSON body or text, headers)."""
    data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    if bearer:
        req.add_header("Authorization", "Bearer " + bearer)
    try:
        with OPENER.open(req, timeout=20) as resp:
            status, body, headers = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as err:
        status, body, headers = err.code, err.read(), err.headers
    try:
        body = json.loads(body)
    except ValueError:
        body = body.decode(errors="replace")
    return status, body, headers


class Server:
    """Starts oauth_server.py exactly as Sigil's tests do: CONFIG and INFO paths, stdin a pipe we hold."""

    def __init__(self, name, cfg):
        self.config_path, self.info_path = os.path.join(WORK, name + ".json"), os.path.join(WORK, name + ".info.json")
        with open(self.config_path, "w") as f:
            json.dump(cfg, f)
        self.process = subprocess.Popen([sys.executable, SERVER, self.config_path, self.info_path],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        deadline = time.time() + 15
        while not os.path.exists(self.info_path):
            if self.process.poll() is not None or time.time() > deadline:
                raise RuntimeError("oauth_server.py did not start")
            time.sleep(0.05)
        with open(self.info_path) as f:
            self.info = json.load(f)
        for key in ("base_url", "token_url", "authorize_url", "device_url", "revoke_url", "resource_url"):
            check(key in self.info, f"INFO.json has {key}")

    def token(self, form, auth=None):
        return http("POST", self.info["token_url"], form, auth)

    def me(self, access_token):
        return http("GET", self.info["resource_url"], bearer=access_token)

    def admin(self, path, form=None):
        return http("POST" if form is not None or path != "/_stats" else "GET", self.info["base_url"] + path, form)

    def stop(self):
        """Closing stdin is the signal to stop; the server must exit by itself, quickly and cleanly."""
        self.process.stdin.close()
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            code = "timeout"
        check(code == 0, "server exits 0 when its stdin closes", code)
        check(self.process.stdout.read() == b"", "server prints nothing on stdout")


def expect_error(response, status, error, what):
    got_status, body, _ = response
    check(got_status == status and isinstance(body, dict) and body.get("error") == error, what, (got_status, body))


# --- assertions (RFC 7523 JWTs, SAML) --------------------------------------------------------------
def sign_jwt(private_key, alg, claims):
    key_type = "EC" if isinstance(private_key, ec.EllipticCurvePrivateKey) else "RSA"
    return jwt.encode({"alg": alg, "typ": "JWT"}, claims, import_key(pem_private(private_key), key_type))


def client_assertion(token_url, key=JWT_KEY, **overrides):
    now = int(time.time())
    claims = {"iss": "svc-jwt", "sub": "svc-jwt", "aud": token_url, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}
    claims.update(overrides)
    return sign_jwt(key, "RS256", claims)


def saml_time(offset):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")


SIG_TEMPLATE = ('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
                '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
                '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
                '<ds:Reference URI="#{id}"><ds:Transforms>'
                '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
                '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
                '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>'
                '</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:KeyValue/><ds:X509Data><ds:X509Certificate/>'
                '</ds:X509Data></ds:KeyInfo></ds:Signature>')


def saml_assertion(token_url, signed=True, issuer="https://idp.example", audience=None, recipient=None,
                   not_on_or_after=300, subject="alice@example.com", assertion_id=None):
    aid = assertion_id or "_a" + secrets.token_hex(8)
    audience, recipient = audience or token_url, recipient or token_url
    return (f'<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{aid}" Version="2.0" '
            f'IssueInstant="{saml_time(0)}"><saml:Issuer>{issuer}</saml:Issuer>'
            + (SIG_TEMPLATE.format(id=aid) if signed else "") +
            f'<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">{subject}'
            '</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f'<saml:SubjectConfirmationData NotOnOrAfter="{saml_time(not_on_or_after)}" Recipient="{recipient}"/>'
            f'</saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{saml_time(-30)}" '
            f'NotOnOrAfter="{saml_time(not_on_or_after)}"><saml:AudienceRestriction><saml:Audience>{audience}'
            '</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement '
            f'AuthnInstant="{saml_time(0)}"><saml:AuthnContext><saml:AuthnContextClassRef>'
            'urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified</saml:AuthnContextClassRef></saml:AuthnContext>'
            '</saml:AuthnStatement></saml:Assertion>')


def saml_response(token_url, inner, signed=True):
    rid = "_r" + secrets.token_hex(8)
    return (f'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="{rid}" Version="2.0" '
            f'IssueInstant="{saml_time(0)}" Destination="{token_url}"><saml:Issuer '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.example</saml:Issuer>'
            + (SIG_TEMPLATE.format(id=rid) if signed else "") +
            '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
            + inner + '</samlp:Response>')


def xmlsec_sign(xml, key=IDP_KEY, cert=IDP_CERT):
    """Signs the first <ds:Signature> template in document order, like an IdP would."""
    paths = {}
    for name, text in (("key", pem_private(key)), ("crt", cert), ("xml", xml)):
        paths[name] = os.path.join(WORK, f"sign-{secrets.token_hex(4)}.{name}")
        with open(paths[name], "w") as f:
            f.write(text)
    out = subprocess.run(["xmlsec1", "--sign", "--privkey-pem", f"{paths['key']},{paths['crt']}",
                          "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                          "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response", paths["xml"]],
                         capture_output=True, timeout=20)
    if out.returncode != 0:
        raise RuntimeError("xmlsec1 --sign failed: " + out.stderr.decode())
    return out.stdout.decode().split("?>", 1)[-1].strip()  # without the XML declaration, so it can be nested


def b64(xml, urlsafe=False):
    raw = xml.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") if urlsafe else base64.b64encode(raw).decode()


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


# --- the tests -------------------------------------------------------------------------------------
def test_client_credentials(s):
    url = s.info["token_url"]
    # client_secret_basic, with extra parameters that must arrive (scope, audience, repeated resource, custom)
    status, body, headers = s.token({"grant_type": "client_credentials", "scope": "read", "audience": "https://api.example",
                                     "resource": ["https://r1.example", "https://r2.example"], "custom_param": "x1"},
                                    auth=("svc-basic", "s3cret-basic"))
    check(status == 200, "client_credentials + client_secret_basic", body)
    check(headers.get("Content-Type", "").startswith("application/json"), "token response is JSON")
    check(body.get("token_type") == "Bearer" and body.get("expires_in") == 3600 and body.get("scope") == "read",
          "token_type Bearer, expires_in, scope", body)
    check(body.get("instance_url") == s.info["base_url"] and body.get("id") == s.info["base_url"] + "/id/svc-basic",
          "Salesforce-shaped instance_url and id (subject = client_id)", body)
    issued = body.get("issued_at")
    check(isinstance(issued, str) and abs(int(issued) - time.time() * 1000) < 60000, "issued_at in ms, a string", issued)
    check("refresh_token" not in body, "client_credentials issues no refresh token by default")
    params = s.admin("/_stats")[1]["last_token_request_params"]
    check(params == {"grant_type": "client_credentials", "scope": "read", "audience": "https://api.example",
                     "resource": ["https://r1.example", "https://r2.example"], "custom_param": "x1"},
          "stats record the extra parameters", params)
    status, me, _ = s.me(body["access_token"])
    check(status == 200 and me == {"sub": "svc-basic", "client_id": "svc-basic", "scope": "read"}, "/api/me", me)
    status, body, _ = s.token({"grant_type": "client_credentials"}, auth=("svc-basic", "s3cret-basic"))
    check(body.get("scope") == "read write", "no scope asked: the client's registered scope", body)

    expect_error(s.token({"grant_type": "client_credentials"}, auth=("svc-basic", "wrong")), 401, "invalid_client",
                 "wrong secret -> 401 invalid_client")
    expect_error(s.token({"grant_type": "client_credentials", "client_id": "svc-basic", "client_secret": "s3cret-basic"}),
                 401, "invalid_client", "svc-basic registered for Basic cannot use client_secret_post")
    expect_error(s.token({"grant_type": "client_credentials", "scope": "admin"}, auth=("svc-basic", "s3cret-basic")),
                 400, "invalid_scope", "scope outside the client's -> invalid_scope")
    expect_error(s.token({"grant_type": "password", "username": "u", "password": "p"}, auth=("svc-basic", "s3cret-basic")),
                 400, "unsupported_grant_type", "password grant -> unsupported_grant_type")
    expect_error(s.token({"grant_type": "client_credentials"}, auth=("app", "s3cret-app")), 400, "unauthorized_client",
                 "client without the grant type -> unauthorized_client")

    # client_secret_post; the secret is redacted in /_stats
    status, body, _ = s.token({"grant_type": "client_credentials", "client_id": "svc-post", "client_secret": "s3cret-post"})
    check(status == 200 and body.get("scope") == "read", "client_credentials + client_secret_post", body)
    params = s.admin("/_stats")[1]["last_token_request_params"]
    check(params.get("client_secret") == "<redacted>", "client_secret redacted in stats", params)
    expect_error(s.token({"grant_type": "client_credentials"}, auth=("svc-post", "s3cret-post")), 401, "invalid_client",
                 "svc-post registered for POST cannot use Basic")

    # private_key_jwt (RFC 7523 §2.2): audience = token URL, jti single use
    jwt_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assertion = client_assertion(url)
    form = {"grant_type": "client_credentials", "client_assertion_type": jwt_type, "client_assertion": assertion}
    status, body, _ = s.token(form)
    check(status == 200 and body.get("id", "").endswith("/id/svc-jwt"), "client_credentials + private_key_jwt", body)
    check(s.admin("/_stats")[1]["last_token_request_params"].get("client_assertion") == "<redacted>",
          "client_assertion redacted in stats")
    expect_error(s.token(form), 400, "invalid_client", "replayed client assertion (same jti) rejected")
    for what, bad in (("wrong audience", client_assertion(url + "/x")), ("wrong key", client_assertion(url, key=OTHER_KEY)),
                      ("expired", client_assertion(url, exp=int(time.time()) - 300, iat=int(time.time()) - 400)),
                      ("iss != sub", client_assertion(url, iss="someone"))):
        expect_error(s.token(dict(form, client_assertion=bad)), 400, "invalid_client", f"private_key_jwt {what} rejected")


def test_jwt_bearer(s):
    url = s.info["token_url"]

    def grant(key, alg, iss, auth=None, **overrides):
        now = int(time.time())
        claims = {"iss": iss, "sub": "alice@example.com", "aud": url, "iat": now, "exp": now + 120}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return s.token({"grant_type": JWT_BEARER, "assertion": sign_jwt(key, alg, claims)}, auth=auth)

    status, body, _ = grant(BEARER_RSA, "RS256", "bearer")
    check(status == 200 and body.get("scope") == "api" and "refresh_token" not in body, "jwt-bearer RS256", body)
    status, me, _ = s.me(body.get("access_token", ""))
    check(me == {"sub": "alice@example.com", "client_id": "bearer", "scope": "api"}, "jwt-bearer: subject is sub", me)
    check(body.get("id", "").endswith("/id/alice@example.com"), "jwt-bearer id names the subject", body)
    status, body, _ = grant(BEARER_EC, "ES256", "bearer-ec", auth=("bearer-ec", "s3cret-ec"))
    check(status == 200, "jwt-bearer ES256 (client authenticates with Basic)", body)
    expect_error(grant(BEARER_EC, "ES256", "bearer-ec"), 401, "invalid_client",
                 "jwt-bearer: a client registered for Basic must authenticate")
    expect_error(grant(BEARER_RSA, "RS256", "bearer", aud=url + "/other"), 400, "invalid_grant", "jwt-bearer wrong aud")
    expect_error(grant(BEARER_RSA, "RS256", "bearer", exp=int(time.time()) - 120), 400, "invalid_grant",
                 "jwt-bearer expired")
    expect_error(grant(OTHER_KEY, "RS256", "bearer"), 400, "invalid_grant", "jwt-bearer signed by another key")
    expect_error(grant(BEARER_RSA, "RS256", "bearer", sub=None), 400, "invalid_grant", "jwt-bearer without sub")
    expect_error(grant(BEARER_RSA, "RS256", "nobody"), 400, "invalid_grant", "jwt-bearer unknown issuer")


def authorize(s, user="alice", challenge=None, method="S256", redirect_uri=REDIRECT, state="st-1", client_id="app",
              scope="read"):
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
             "state": state}
    if user:
        query["login_hint"] = user
    if challenge:
        query.update(code_challenge=challenge, code_challenge_method=method)
    status, body, headers = http("GET", s.info["authorize_url"] + "?" + urllib.parse.urlencode(query))
    location = headers.get("Location") or ""
    return status, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query)), location, body


def test_authorization_code_and_refresh(s, rotate=True):
    app = ("app", "s3cret-app")
    verifier, challenge = pkce_pair()
    status, params, location, _ = authorize(s, challenge=challenge)
    check(status == 302 and location.startswith(REDIRECT + "?") and params.get("state") == "st-1" and params.get("code"),
          "authorize with login_hint: 302 to redirect_uri?code&state", location)
    code_form = {"grant_type": "authorization_code", "code": params.get("code"), "redirect_uri": REDIRECT,
                 "code_verifier": verifier}
    status, body, _ = s.token(code_form, auth=app)
    check(status == 200 and body.get("refresh_token") and body.get("scope") == "read", "code + PKCE S256 -> tokens", body)
    check(s.me(body.get("access_token", ""))[1].get("sub") == "alice", "authorization_code subject is login_hint")
    expect_error(s.token(code_form, auth=app), 400, "invalid_grant", "a code is used once")

    _, params, _, _ = authorize(s, challenge=challenge)
    expect_error(s.token(dict(code_form, code=params.get("code"), code_verifier=pkce_pair()[0]), auth=app), 400,
                 "invalid_grant", "wrong code_verifier -> invalid_grant")
    _, params, _, _ = authorize(s, challenge=challenge)
    expect_error(s.token({k: v for k, v in dict(code_form, code=params.get("code")).items() if k != "code_verifier"},
                         auth=app), 400, "invalid_request", "missing code_verifier -> invalid_request")
    status, params, _, _ = authorize(s)
    check(status == 302 and params.get("error") == "invalid_request", "no code_challenge -> redirect error", params)
    status, params, _, _ = authorize(s, challenge=challenge, method="plain")
    check(status == 302 and params.get("error") == "invalid_request", "plain PKCE refused", params)
    status, params, _, _ = authorize(s, user=None, challenge=challenge)
    check(status == 302 and params.get("error") == "access_denied" and params.get("state") == "st-1",
          "no login_hint -> access_denied", params)
    status, _, location, _ = authorize(s, challenge=challenge, redirect_uri="http://127.0.0.1:9/evil")
    check(status == 400 and not location, "unregistered redirect_uri -> 400, no redirect", status)

    # refresh_token grant
    refresh = body["refresh_token"]
    expect_error(s.token({"grant_type": "refresh_token", "refresh_token": refresh, "scope": "read write"}, auth=app),
                 400, "invalid_scope", "refresh cannot widen the scope (and the token survives)")
    status, fresh, _ = s.token({"grant_type": "refresh_token", "refresh_token": refresh}, auth=app)
    check(status == 200 and fresh.get("access_token") != body["access_token"], "refresh_token grant", fresh)
    check(s.me(fresh.get("access_token", ""))[1].get("sub") == "alice", "refreshed token keeps the subject")
    if rotate:
        check(fresh.get("refresh_token") and fresh["refresh_token"] != refresh, "rotation: a new refresh token", fresh)
        expect_error(s.token({"grant_type": "refresh_token", "refresh_token": refresh}, auth=app), 400, "invalid_grant",
                     "rotation: the old refresh token is revoked")
        refresh = fresh["refresh_token"]
        # of two concurrent refreshes with one token, exactly one wins
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            s.token({"grant_type": "refresh_token", "refresh_token": refresh}, auth=app)[0])) for _ in range(5)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        check(sorted(results) == [200, 400, 400, 400, 400], "rotation is atomic under concurrency", results)
    else:
        check("refresh_token" not in fresh, "no rotation: no refresh token in the response", fresh)
        status, _, _ = s.token({"grant_type": "refresh_token", "refresh_token": refresh}, auth=app)
        check(status == 200, "no rotation: the old refresh token stays valid")
        check(s.admin("/_stats")[1]["last_token_request_params"].get("refresh_token") == "<redacted>",
              "refresh_token redacted in stats")
    expect_error(s.token({"grant_type": "refresh_token", "refresh_token": "nope"}, auth=app), 400, "invalid_grant",
                 "unknown refresh token -> invalid_grant")


def test_device(s):
    app = ("app", "s3cret-app")
    status, device, _ = http("POST", s.info["device_url"], {"scope": "read"}, auth=app)
    check(status == 200 and device.get("interval") == 1 and device.get("device_code") and device.get("user_code")
          and device.get("verification_uri"), "device authorization response", device)
    poll = {"grant_type": DEVICE, "device_code": device.get("device_code")}
    expect_error(s.token(poll, auth=app), 400, "authorization_pending", "device: authorization_pending before approval")
    status, _, _ = s.admin("/_approve_device", {"user_code": "NOPE-NOPE", "user": "bob"})
    check(status == 404, "approving an unknown user_code -> 404")
    status, _, _ = s.admin("/_approve_device", {"user_code": device.get("user_code"), "user": "bob"})
    check(status == 200, "admin approves the device")
    status, body, _ = s.token(poll, auth=app)
    check(status == 200 and body.get("refresh_token") and body.get("id", "").endswith("/id/bob"), "device: tokens", body)
    check(s.me(body.get("access_token", ""))[1].get("sub") == "bob", "device: subject is the approving user")
    status, _, _ = s.token(poll, auth=app)
    check(status == 400, "device: a device_code is redeemed once")
    # denied
    _, device, _ = http("POST", s.info["device_url"], {}, auth=app)
    s.admin("/_approve_device", {"user_code": device["user_code"], "user": "bob", "approved": "false"})
    expect_error(s.token({"grant_type": DEVICE, "device_code": device["device_code"]}, auth=app), 400, "access_denied",
                 "device: denied -> access_denied")
    status, _, _ = http("POST", s.info["device_url"], {}, auth=("svc-basic", "s3cret-basic"))
    check(status == 400, "device endpoint refuses a client without the device grant")


def test_saml(s):
    url, saml_form = s.info["token_url"], lambda xml, **kw: dict({"grant_type": SAML2, "assertion": b64(xml, True)}, **kw)
    sf_type = "urn:oasis:names:tc:SAML:2.0:profiles:SSO:browser"

    # RFC 7522: a signed Assertion, base64url, no client authentication (client found by Issuer)
    status, body, _ = s.token(saml_form(xmlsec_sign(saml_assertion(url))))
    check(status == 200 and body.get("id", "").endswith("/id/alice@example.com"), "saml2-bearer signed Assertion", body)
    check(s.me(body.get("access_token", ""))[1] == {"sub": "alice@example.com", "client_id": "saml", "scope": "api"},
          "saml2-bearer subject is NameID")
    status, body, _ = s.token(saml_form(xmlsec_sign(saml_assertion(url)), client_id="saml"))
    check(status == 200, "saml2-bearer with client_id (auth method none)", body)
    # Salesforce assertion flow: base64 SAML Response, signed Assertion inside; or only the Response signed
    status, body, _ = s.token({"grant_type": "assertion", "assertion_type": sf_type,
                               "assertion": b64(saml_response(url, xmlsec_sign(saml_assertion(url)), signed=False))})
    check(status == 200 and body.get("instance_url") == s.info["base_url"], "assertion flow: Response + signed Assertion",
          body)
    status, body, _ = s.token({"grant_type": "assertion", "assertion_type": sf_type,
                               "assertion": b64(xmlsec_sign(saml_response(url, saml_assertion(url, signed=False))))})
    check(status == 200, "assertion flow: signed Response", body)
    check(s.admin("/_stats")[1]["last_token_request_params"].get("assertion") == "<redacted>", "assertion redacted")
    expect_error(s.token({"grant_type": "assertion", "assertion_type": "urn:other",
                          "assertion": b64(xmlsec_sign(saml_assertion(url)))}), 400, "invalid_request",
                 "assertion flow: wrong assertion_type")

    def rejected(xml, what):
        expect_error(s.token(saml_form(xml)), 400, "invalid_grant", f"SAML rejected: {what}")

    good = xmlsec_sign(saml_assertion(url))
    rejected(good.replace("alice@example.com", "mallory@example.com"), "NameID changed after signing")
    rejected(xmlsec_sign(saml_assertion(url), key=EVIL_KEY, cert=EVIL_CERT), "signed by another key (in KeyValue)")
    rejected(saml_assertion(url, signed=False), "unsigned")
    rejected(xmlsec_sign(saml_assertion(url, audience="https://other.example")), "wrong Audience")
    rejected(xmlsec_sign(saml_assertion(url, recipient="https://other.example/token")), "wrong Recipient")
    rejected(xmlsec_sign(saml_assertion(url, not_on_or_after=-120)), "expired")
    rejected(xmlsec_sign(saml_assertion(url, subject="")), "no NameID")
    expect_error(s.token(saml_form(xmlsec_sign(saml_assertion(url, issuer="https://evil.example")), client_id="saml")),
                 400, "invalid_grant", "SAML rejected: wrong Issuer")
    # signature wrapping: the IdP-signed assertion hidden in a Response next to a forged, unsigned one
    forged = saml_assertion(url, signed=False, subject="admin@example.com")
    wrapped = saml_response(url, forged, signed=False).replace(
        "<samlp:Status>", "<samlp:Extensions>" + good + "</samlp:Extensions><samlp:Status>")
    expect_error(s.token({"grant_type": "assertion", "assertion_type": sf_type, "assertion": b64(wrapped)}), 400,
                 "invalid_grant", "SAML rejected: signature wrapping")
    expect_error(s.token({"grant_type": SAML2, "assertion": "%%%not-base64"}), 400, "invalid_grant",
                 "SAML rejected: not base64")


def test_revocation_and_admin(s):
    basic, app = ("svc-basic", "s3cret-basic"), ("app", "s3cret-app")
    access = s.token({"grant_type": "client_credentials"}, auth=basic)[1]["access_token"]
    status, _, _ = http("POST", s.info["revoke_url"], {"token": access}, auth=("svc-basic", "wrong"))
    check(status == 401, "revocation needs client authentication")
    before = s.admin("/_stats")[1]["revocations"]
    status, _, _ = http("POST", s.info["revoke_url"], {"token": access, "token_type_hint": "access_token"}, auth=basic)
    check(status == 200 and s.me(access)[0] == 401, "revoked access token -> /api/me 401")
    status, _, _ = http("POST", s.info["revoke_url"], {"token": "unknown"}, auth=basic)
    check(status == 200, "revoking an unknown token answers 200 (RFC 7009 §2.2)")
    check(s.admin("/_stats")[1]["revocations"] == before + 2, "revocations counted")

    def user_tokens():
        verifier, challenge = pkce_pair()
        code = authorize(s, challenge=challenge)[1]["code"]
        return s.token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                        "code_verifier": verifier}, auth=app)[1]

    tokens = user_tokens()
    http("POST", s.info["revoke_url"], {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}, auth=app)
    expect_error(s.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=app), 400,
                 "invalid_grant", "revoked refresh token -> invalid_grant")
    check(s.me(tokens["access_token"])[0] == 401, "revoking a refresh token revokes its access token too")

    # /api/me failure shape
    status, body, _ = s.me("not-a-token")
    check(status == 401 and body == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
          "unknown token -> 401 INVALID_SESSION_ID", body)
    status, body, _ = http("GET", s.info["resource_url"])
    check(status == 401 and body[0]["errorCode"] == "INVALID_SESSION_ID", "no token -> 401 INVALID_SESSION_ID")

    # admin invalidation
    tokens = user_tokens()
    status, _, _ = s.admin("/_invalidate_access_tokens", {})
    check(status == 200 and s.me(tokens["access_token"])[0] == 401, "/_invalidate_access_tokens -> 401")
    status, fresh, _ = s.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=app)
    check(status == 200 and s.me(fresh["access_token"])[0] == 200, "refresh tokens survive access invalidation")
    s.admin("/_invalidate_refresh_tokens", {})
    expect_error(s.token({"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]}, auth=app), 400,
                 "invalid_grant", "/_invalidate_refresh_tokens -> invalid_grant")


def test_concurrency_and_stats(s):
    before = s.admin("/_stats")[1]
    s.admin("/_delay", {"seconds": "1"})
    results, lock = [], threading.Lock()

    def one():
        status = s.token({"grant_type": "client_credentials"}, auth=("svc-basic", "s3cret-basic"))[0]
        with lock:
            results.append(status)

    started = time.time()
    threads = [threading.Thread(target=one) for _ in range(200)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    elapsed = time.time() - started
    s.admin("/_delay", {"seconds": "0"})
    check(results.count(200) == 200, "200 concurrent token requests all succeed", sorted(set(results)))
    check(elapsed < 10, "they are served concurrently (delay 1 s each)", round(elapsed, 2))
    after = s.admin("/_stats")[1]
    check(after["token_requests"] == before["token_requests"] + 200, "token_requests counts each request")
    check(after["by_grant"]["client_credentials"] == before["by_grant"]["client_credentials"] + 200, "by_grant")
    check(after["auth_methods"]["client_secret_basic"] == before["auth_methods"]["client_secret_basic"] + 200,
          "auth_methods", after["auth_methods"])
    for method in ("client_secret_post", "private_key_jwt", "none"):
        check(after["auth_methods"].get(method, 0) > 0, f"auth_methods counts {method}", after["auth_methods"])
    check(after["failed_token_requests"] > 0 and after["revocations"] > 0, "failures and revocations counted", after)


def main():
    started = time.time()
    if subprocess.run(["xmlsec1", "--version"], capture_output=True).returncode != 0:
        print("xmlsec1 is missing (scripts/bootstrap installs it)", file=sys.stderr)
        return 2
    s = Server("main", config(access_token_lifetime=3600, rotate_refresh_tokens=True))
    try:
        for test in (test_client_credentials, test_jwt_bearer, test_authorization_code_and_refresh, test_device,
                     test_saml, test_revocation_and_admin, test_concurrency_and_stats):
            try:
                test(s)
            except Exception as error:  # a crash in one test is one failure, not the end of the run
                check(False, f"{test.__name__} raised", repr(error))
    finally:
        s.stop()

    # rotate_refresh_tokens false, client_credentials refresh tokens on, short-lived access tokens
    s = Server("norotate", config(access_token_lifetime=2, rotate_refresh_tokens=False,
                                  client_credentials_refresh_token=True))
    try:
        test_authorization_code_and_refresh(s, rotate=False)
        status, body, _ = s.token({"grant_type": "client_credentials"}, auth=("svc-basic", "s3cret-basic"))
        check(status == 200 and body.get("expires_in") == 2 and body.get("refresh_token"),
              "client_credentials_refresh_token: a refresh token; access_token_lifetime honoured", body)
        status, fresh, _ = s.token({"grant_type": "refresh_token", "refresh_token": body.get("refresh_token")},
                                   auth=("svc-basic", "s3cret-basic"))
        check(status == 200 and s.me(fresh["access_token"])[1].get("sub") == "svc-basic", "client_credentials refresh")
        time.sleep(2.2)
        check(s.me(body["access_token"])[0] == 401, "expired access token -> 401")
    except Exception as error:
        check(False, "norotate tests raised", repr(error))
    finally:
        s.stop()

    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    print(f"({time.time() - started:.1f} s)", file=sys.stderr)
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
