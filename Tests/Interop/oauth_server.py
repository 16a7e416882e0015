"""A real OAuth 2.0 authorization server for Sigil's interop tests, built on Authlib + Flask.

The server is ours; the OAuth logic is Authlib's (grants, client authentication, PKCE, device flow,
revocation, bearer validation). Only the SAML 2.0 bearer grants are written here, because Authlib
has none; their XML signatures are checked by the xmlsec1 command-line tool.

Usage:  python3 oauth_server.py CONFIG.json INFO.json
  Binds 127.0.0.1 on a free port, writes INFO.json atomically (INFO.json.tmp, then rename) once the
  socket listens, serves (threaded) until its standard input reaches end-of-file, then exits 0.
  Standard input must therefore be a pipe held open by the test (not /dev/null). Nothing is logged
  per request; stderr carries only start-up errors and tracebacks of server bugs.

CONFIG.json (written by the tests; every top-level key but "clients" is optional):
  {
    "access_token_lifetime": 3600,            # seconds; "expires_in" of every access token
    "rotate_refresh_tokens": true,            # refresh_token grant: true = new refresh token each time,
                                              #   the presented one revoked; false = none returned, old stays valid
    "refresh_token_lifetime": 0,              # seconds; when set, token responses with a refresh token also
                                              #   carry "refresh_token_expires_in" (the value is not enforced)
    "client_credentials_refresh_token": false,# true = client_credentials also issues a refresh token
                                              #   (to clients whose grant_types include refresh_token)
    "consent_page": false,                    # true = GET /oauth/authorize without login_hint answers an
                                              #   HTML consent page instead of denying at once (see below)
    "clients": [{
      "client_id": "svc-basic",               # required
      "client_secret": "s3cret-basic",        # for client_secret_basic / client_secret_post
      "client_secrets": ["s3cret-next"],      # further secrets accepted at the same time (rotation)
      "token_endpoint_auth_method": "client_secret_basic",  # | client_secret_post | private_key_jwt | none
                                              #   (default client_secret_basic); used at /oauth/token,
                                              #   /oauth/revoke and /oauth/device alike
      "grant_types": ["client_credentials", "refresh_token"],  # any of: client_credentials, refresh_token,
                                              #   authorization_code, urn:ietf:params:oauth:grant-type:device_code,
                                              #   urn:ietf:params:oauth:grant-type:jwt-bearer,
                                              #   urn:ietf:params:oauth:grant-type:saml2-bearer, assertion
      "scope": "read write",                  # allowed scopes; also the default when a request names none.
                                              #   Asking for a scope outside this list -> invalid_scope.
      "redirect_uris": ["http://127.0.0.1:53682/callback"],  # authorization_code
      "public_key_pem": "-----BEGIN PUBLIC KEY-----...",     # RSA or EC P-256 SPKI: verifies private_key_jwt
                                              #   client assertions and jwt-bearer grant assertions
      "saml_idp_certificate_pem": "-----BEGIN CERTIFICATE-----...",  # verifies SAML signatures
      "saml_issuer": "https://idp.example"    # required <saml:Issuer> of the assertion
    }]
  }

INFO.json (read by the tests):
  {"base_url": "http://127.0.0.1:PORT", "token_url": BASE+"/oauth/token", "authorize_url": BASE+"/oauth/authorize",
   "device_url": BASE+"/oauth/device", "revoke_url": BASE+"/oauth/revoke", "resource_url": BASE+"/api/me",
   "pid": PID}

Endpoints:
  POST /oauth/token      RFC 6749 §3.2 token endpoint, grants below. Every success is JSON with access_token,
                         token_type "Bearer", expires_in, optional refresh_token and scope, plus the
                         Salesforce-shaped instance_url (= base_url), id (= base_url/id/SUBJECT) and
                         issued_at (ms since epoch, a string). SUBJECT is the user, or the client_id for
                         client_credentials.
  GET  /oauth/authorize  RFC 6749 §4.1.1 + RFC 7636: response_type=code, PKCE S256 required for every
                         client; login_hint=USER auto-approves as USER (302 to redirect_uri?code=..&state=..);
                         without login_hint the user "denies" (302 with error=access_denied), unless
                         "consent_page" is true: then, once the request is valid, a 200 HTML page with
                         <form id="consent" method="post" action="/oauth/authorize"> carrying every query
                         parameter as a hidden input, <input name="user" id="consent-user">, and the buttons
                         <button id="approve" name="decision" value="approve"> and <button id="deny"
                         name="decision" value="deny">.
  POST /oauth/authorize  (consent_page only) that form: decision=approve with a non-empty user grants as that
                         user (302 to redirect_uri?code=..&state=..); anything else denies (302 with
                         error=access_denied&state=..). Without consent_page: 405.
  POST /oauth/device     RFC 8628 §3.1 device authorization (interval 1, expires_in 600).
  POST /oauth/revoke     RFC 7009. A refresh token revokes its access token too; an access token only itself.
  GET  /id/SUBJECT       an identity URL: 200 {"user_id","username","email"} (all SUBJECT, email @example.com)
                         for a bearer access token of SUBJECT, 401/403 otherwise; /id/redirect/SUBJECT: 302 there
  GET  /api/me           RFC 6750 protected resource: 200 {"sub","client_id","scope"}; otherwise 401
                         [{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}].
  POST /admin/clients/CLIENT/secrets[/revoke]  a provider's API for a client's secrets (config "admin_key",
                         sent as X-Admin-Key; form client_id, client_secret): add (409 when present) or
                         revoke (404 when absent); 401 without the key.
  Test-only (no auth, loopback only):
  GET  /_stats                       counters, see Stats.snapshot()
  POST /_client_secrets  client_id=..&add=SECRET | &revoke=SECRET   a client's accepted secrets (rotation)
  POST /_invalidate_access_tokens    every access token issued so far stops working
  POST /_invalidate_refresh_tokens   every refresh token issued so far is revoked
  POST /_delay  seconds=N            the token endpoint sleeps N seconds before answering (0 = off)
  POST /_approve_device  user_code=..&user=..[&approved=false]   completes (or denies) a device flow
"""
import base64
import binascii
import datetime
import html
import json
import logging
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, g, jsonify, request
from joserfc.jwk import import_key
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.serving import make_server

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants, list_to_scope, scope_to_list
from authlib.oauth2.rfc6749.errors import (InvalidClientError, InvalidGrantError, InvalidRequestError,
                                          InvalidScopeError, UnauthorizedClientError)
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion, JWTBearerGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint, DeviceCodeGrant, DeviceCredentialDict

SAML2_BEARER = "urn:ietf:params:oauth:grant-type:saml2-bearer"
SALESFORCE_ASSERTION_TYPE = "urn:oasis:names:tc:SAML:2.0:profiles:SSO:browser"
# Client authentication methods accepted wherever a client authenticates; Authlib then checks that the
# method used is the client's registered token_endpoint_auth_method (ClientMixin.check_endpoint_auth_method).
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
CONFIDENTIAL_AUTH_METHODS = AUTH_METHODS[:3]
REDACTED_PARAMS = {"client_secret", "client_assertion", "assertion", "refresh_token", "code", "code_verifier",
                   "device_code"}


# ---------------------------------------------------------------------------------------------------
# In-memory storage (RFC 6749 §2 clients, §1.4/§1.5 tokens), all behind one lock.
# ---------------------------------------------------------------------------------------------------
class Client:
    """A registered client, per Authlib's ClientMixin (RFC 6749 §2, RFC 7591 metadata names)."""

    def __init__(self, entry):
        self.client_id = entry["client_id"]
        self.client_secret = entry.get("client_secret")
        # Further secrets accepted at the same time, as providers allow for rotation (Salesforce
        # connected apps keep two); managed at run time with POST /_client_secrets.
        self.client_secrets = [s for s in [self.client_secret] + list(entry.get("client_secrets", [])) if s]
        self.token_endpoint_auth_method = entry.get("token_endpoint_auth_method", "client_secret_basic")
        self.grant_types = list(entry.get("grant_types", []))
        self.scope = entry.get("scope", "")
        self.redirect_uris = list(entry.get("redirect_uris", []))
        self.public_key = load_public_key(entry["public_key_pem"]) if entry.get("public_key_pem") else None
        self.saml_certificate_pem = entry.get("saml_idp_certificate_pem")
        self.saml_issuer = entry.get("saml_issuer")
        self.saml_certificate_file = None  # written at start-up for xmlsec1

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope):
        allowed = scope_to_list(self.scope) or []
        if not scope:  # RFC 6749 §3.3: a request without scope gets the client's registered default
            return list_to_scope(allowed)
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        with STORE.lock:
            accepted = list(self.client_secrets)
        # Every registered secret is compared (no early exit on the first match).
        matches = [secrets.compare_digest(s, client_secret) for s in accepted]
        return any(matches)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type):
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type):
        return grant_type in self.grant_types


def load_public_key(pem):
    """An RSA or EC public key (SPKI PEM) as a joserfc key, for RFC 7523 signatures."""
    key = serialization.load_pem_public_key(pem.encode())
    return import_key(pem, "EC" if isinstance(key, ec.EllipticCurvePublicKey) else "RSA")


class Token:
    """An issued access token with its optional refresh token (Authlib TokenMixin)."""

    def __init__(self, data, client_id, subject, grant_type):
        self.access_token = data["access_token"]
        self.refresh_token = data.get("refresh_token")
        self.scope = data.get("scope", "")
        self.expires_in = data.get("expires_in", 0)
        self.issued_at = time.time()
        self.client_id, self.subject, self.grant_type = client_id, subject, grant_type
        self.access_revoked = False
        self.refresh_revoked = False

    def check_client(self, client):
        return self.client_id == client.get_client_id()

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self):
        return self.access_revoked

    def get_user(self):
        return self.subject

    def get_client(self):
        return STORE.clients.get(self.client_id)


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.config = {}
        self.clients = {}
        self.access_tokens = {}   # access_token -> Token
        self.refresh_tokens = {}  # refresh_token -> Token
        self.codes = {}           # authorization code -> dict
        self.devices = {}         # device_code -> DeviceCredentialDict
        self.user_grants = {}     # user_code -> (user, approved)
        self.jtis = set()         # client-assertion "jti"s already used (RFC 7523 §3 item 7)
        self.delay = 0.0
        self.base_url = self.token_url = ""

    def save_token(self, data, request):
        client = request.client
        token = Token(data, client.client_id, request.user or client.client_id, request.payload.grant_type)
        with self.lock:
            self.access_tokens[token.access_token] = token
            if token.refresh_token:
                self.refresh_tokens[token.refresh_token] = token


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.token_requests = self.failed_token_requests = self.revocations = self.identity_requests = 0
        self.by_grant, self.auth_methods = {}, {}
        self.last_token_request_params = {}

    def record_token_request(self, form, ok, auth_method):
        params = {}
        for key in form.keys():
            values = ["<redacted>" if key in REDACTED_PARAMS else v for v in form.getlist(key)]
            params[key] = values[0] if len(values) == 1 else values
        with self.lock:
            self.token_requests += 1
            if not ok:
                self.failed_token_requests += 1
            grant = form.get("grant_type", "")
            self.by_grant[grant] = self.by_grant.get(grant, 0) + 1
            if auth_method:
                self.auth_methods[auth_method] = self.auth_methods.get(auth_method, 0) + 1
            self.last_token_request_params = params

    def snapshot(self):
        """token_requests: every POST /oauth/token; failed_token_requests: those not answered 200;
        by_grant: every request counted by its grant_type value; auth_methods: successful client
        authentications at the token endpoint by method ("none" also for assertion grants sent without
        client authentication); revocations: /oauth/revoke requests answered 200;
        last_token_request_params: the last token request's form, with the values of secrets and
        assertions replaced by "<redacted>" (a repeated parameter gives a list); identity_requests:
        every GET /id/SUBJECT."""
        with self.lock:
            return {"token_requests": self.token_requests, "by_grant": dict(self.by_grant),
                    "failed_token_requests": self.failed_token_requests, "revocations": self.revocations,
                    "last_token_request_params": dict(self.last_token_request_params),
                    "auth_methods": dict(self.auth_methods), "identity_requests": self.identity_requests}


STORE, STATS = Store(), Stats()


# ---------------------------------------------------------------------------------------------------
# Authorization server and token generation (RFC 6749 §5.1 + Salesforce-shaped extras)
# ---------------------------------------------------------------------------------------------------
class Server(AuthorizationServer):
    def create_oauth2_request(self, req):
        oauth_request = super().create_oauth2_request(req)
        g.oauth2_request = oauth_request  # kept for /_stats (auth_method) and the per-client scope check
        return oauth_request

    def validate_requested_scope(self, scope):
        # RFC 6749 §3.3: a scope the client is not registered for is invalid_scope (all grants and the
        # device endpoint call this after the client is known).
        client = getattr(g.get("oauth2_request"), "client", None)
        if scope and client is not None and not set(scope_to_list(scope)) <= set(scope_to_list(client.scope) or []):
            raise InvalidScopeError()


def generate_token(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
    bearer = BearerTokenGenerator(lambda **_: secrets.token_urlsafe(32), lambda **_: secrets.token_urlsafe(48),
                                  lambda client, grant_type: int(STORE.config.get("access_token_lifetime", 3600)))
    token = bearer.generate(grant_type, client, user, scope, expires_in, include_refresh_token)
    subject = user or client.client_id
    token.update(instance_url=STORE.base_url, id=f"{STORE.base_url}/id/{subject}",
                 issued_at=str(int(time.time() * 1000)))
    if "refresh_token" in token and STORE.config.get("refresh_token_lifetime"):
        # Not in RFC 6749, but sent by providers whose refresh tokens expire (Microsoft, Box, GitHub apps).
        token["refresh_token_expires_in"] = int(STORE.config["refresh_token_lifetime"])
    return token


def query_client(client_id):
    return STORE.clients.get(client_id)


server = Server(query_client=query_client, save_token=STORE.save_token)


# RFC 7523 §2.2 / §3: private_key_jwt client authentication, Authlib's JWTBearerClientAssertion.
class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self):
        return [STORE.token_url]

    def resolve_client_public_key(self, client):
        if client.public_key is None:
            raise InvalidClientError(description="No public key registered for this client.")
        return client.public_key

    def validate_jti(self, claims, jti):
        with STORE.lock:
            key = (claims["sub"], jti)
            if key in STORE.jtis:
                return False
            STORE.jtis.add(key)
            return True


# RFC 6749 §4.4 client credentials.
class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def create_token_response(self):
        client = self.client
        refresh = STORE.config.get("client_credentials_refresh_token", False) and client.check_grant_type("refresh_token")
        token = self.generate_token(scope=self.request.payload.scope, include_refresh_token=bool(refresh))
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


# RFC 6749 §4.1 authorization code, with RFC 7636 PKCE.
class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code, request):
        with STORE.lock:
            STORE.codes[code] = {"client_id": request.client.client_id, "redirect_uri": request.payload.redirect_uri,
                                 "scope": request.scope, "user": request.user, "expires_at": time.time() + 600,
                                 "code_challenge": request.payload.data.get("code_challenge"),
                                 "code_challenge_method": request.payload.data.get("code_challenge_method")}
        return code

    def query_authorization_code(self, code, client):
        with STORE.lock:
            item = STORE.codes.get(code)
        if item and item["client_id"] == client.client_id and item["expires_at"] > time.time():
            return AuthorizationCode(code, item)
        return None

    def create_token_response(self):
        # RFC 6749 §4.1.2: a code is used once. Claim it atomically, so two concurrent redemptions
        # cannot both succeed (Authlib deletes it only after issuing the token).
        with STORE.lock:
            if STORE.codes.pop(self.request.authorization_code.code, None) is None:
                raise InvalidGrantError("Invalid 'code' in request.")
        return super().create_token_response()

    def delete_authorization_code(self, authorization_code):
        pass  # already claimed in create_token_response

    def authenticate_user(self, authorization_code):
        return authorization_code.item["user"]


class AuthorizationCode(dict):
    def __init__(self, code, item):
        super().__init__(item)
        self.code, self.item = code, item

    def get_redirect_uri(self):
        return self.item["redirect_uri"]

    def get_scope(self):
        return self.item["scope"]


class PKCEChallenge(CodeChallenge):
    """RFC 7636 with S256 required for every client. Authlib's CodeChallenge(required=True) (1.8.0) only
    requires a code_verifier from public clients (auth method "none"), accepts "plain" and lets an
    authorization request without code_challenge through; this subclass closes all three."""
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge' (PKCE S256 is required)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        return super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        return super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code):
        return authorization_code.item["code_challenge"]

    def get_authorization_code_challenge_method(self, authorization_code):
        return authorization_code.item["code_challenge_method"]


# RFC 6749 §6 refresh, with optional rotation (RFC 9700 §4.14.2).
class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def authenticate_refresh_token(self, refresh_token):
        with STORE.lock:
            token = STORE.refresh_tokens.get(refresh_token)
        return token if token and not token.refresh_revoked else None

    def validate_token_request(self):
        self.INCLUDE_NEW_REFRESH_TOKEN = bool(STORE.config.get("rotate_refresh_tokens", True))
        super().validate_token_request()
        if self.INCLUDE_NEW_REFRESH_TOKEN:
            # Rotation: consume the presented refresh token atomically, so that of two concurrent
            # requests with it only one gets a new pair and the other gets invalid_grant.
            with STORE.lock:
                if self.request.refresh_token.refresh_revoked:
                    raise InvalidGrantError()
                self.request.refresh_token.refresh_revoked = True

    def authenticate_user(self, refresh_token):
        return refresh_token.subject

    def revoke_old_credential(self, refresh_token):
        pass  # done in validate_token_request when rotating; kept valid otherwise


# RFC 7523 §2.1 JWT bearer grant, Authlib's JWTBearerGrant.
class JWTBearerGrantWithKeys(JWTBearerGrant):
    CLAIMS_OPTIONS = {"iss": {"essential": True}, "sub": {"essential": True},
                      "aud": {"essential": True}, "exp": {"essential": True}}
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def get_audiences(self):
        return [STORE.token_url]

    def resolve_issuer_client(self, issuer):
        return STORE.clients.get(issuer)

    def resolve_client_public_key(self, client):
        if client.public_key is None:
            raise InvalidGrantError(description="No public key registered for this client.")
        return client.public_key

    def authenticate_user(self, subject):
        return subject if isinstance(subject, str) and subject else None

    def has_granted_permission(self, client, user):
        return True

    def validate_token_request(self):
        super().validate_token_request()
        # RFC 7521 §4.1: client authentication is optional; a client registered with a confidential
        # method must use it, and be the assertion's issuer.
        client = self.request.client
        if client.token_endpoint_auth_method != "none":
            if self.authenticate_token_endpoint_client().client_id != client.client_id:
                raise InvalidClientError(description="Authenticated client is not the assertion issuer.")
        else:
            self.request.auth_method = "none"


# RFC 8628 device authorization grant, Authlib's endpoint and grant.
class DeviceEndpoint(DeviceAuthorizationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS
    INTERVAL = 1
    EXPIRES_IN = 600

    def get_verification_uri(self):
        return STORE.base_url + "/device"

    def authenticate_client(self, request):
        client = super().authenticate_client(request)
        if not client.check_grant_type(DeviceCodeGrant.GRANT_TYPE):
            raise UnauthorizedClientError("The client may not use the device authorization grant.")
        return client

    def save_device_credential(self, client_id, scope, data):
        credential = DeviceCredentialDict(client_id=client_id, scope=scope, expires_at=time.time() + self.EXPIRES_IN,
                                          **data)
        with STORE.lock:
            STORE.devices[data["device_code"]] = credential


class DeviceGrant(DeviceCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def query_device_credential(self, device_code):
        with STORE.lock:
            return STORE.devices.get(device_code)

    def query_user_grant(self, user_code):
        with STORE.lock:
            return STORE.user_grants.get(user_code)

    def should_slow_down(self, credential):
        return False

    def create_token_response(self):
        with STORE.lock:  # a device code is redeemed once
            if STORE.devices.pop(self.request.credential["device_code"], None) is None:
                raise InvalidGrantError("Device code already used.")
        return super().create_token_response()


# ---------------------------------------------------------------------------------------------------
# RFC 7522 SAML 2.0 bearer grant and the Salesforce SAML assertion flow. Authlib has no SAML support.
# ---------------------------------------------------------------------------------------------------
NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion", "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "ds": "http://www.w3.org/2000/09/xmldsig#"}
ASSERTION, RESPONSE, SIGNATURE = ("{%s}Assertion" % NS["saml"], "{%s}Response" % NS["samlp"],
                                  "{%s}Signature" % NS["ds"])
ALLOWED_TRANSFORMS = {"http://www.w3.org/2000/09/xmldsig#enveloped-signature",
                      "http://www.w3.org/2001/10/xml-exc-c14n#", "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
                      "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"}
SKEW = 60


def saml_time(value):
    value = re.sub(r"(\.\d{1,6})\d*", r"\1", value.strip())  # fromisoformat takes at most 6 fractional digits
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("SAML times are UTC with a 'Z'")
    return parsed.timestamp()


def decode_assertion(value):
    """RFC 7522 §2.1 says base64url; Salesforce sends base64. Accept either, padded or not."""
    value = re.sub(r"\s+", "", value or "")
    try:
        return base64.b64decode(value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidGrantError("The assertion is not base64.") from None


def verify_saml(xml_bytes, client):
    """Verifies a SAML 2.0 Response or Assertion for this client and returns the subject (NameID).
    RFC 7522 §3 processing rules. Raises InvalidGrantError."""
    if len(xml_bytes) > 256 * 1024 or re.search(rb"<!(DOCTYPE|ENTITY)", xml_bytes, re.I):
        raise InvalidGrantError("Assertion rejected (size or DTD).")
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError:
        raise InvalidGrantError("The assertion is not XML.") from None
    if root.tag not in (ASSERTION, RESPONSE):
        raise InvalidGrantError("Expected a SAML 2.0 Response or Assertion.")
    ids = [e.get("ID") for e in root.iter() if e.get("ID") is not None]
    if len(ids) != len(set(ids)):
        raise InvalidGrantError("Duplicate ID attributes.")
    assertions = list(root.iter(ASSERTION))
    if len(assertions) != 1 or list(root.iter("{%s}EncryptedAssertion" % NS["saml"])):
        raise InvalidGrantError("Expected exactly one unencrypted Assertion.")
    assertion = assertions[0]
    if root.tag == RESPONSE:
        if assertion not in list(root):
            raise InvalidGrantError("The Assertion must be a child of the Response.")
        status = root.find("samlp:Status/samlp:StatusCode", NS)
        if status is not None and status.get("Value") != "urn:oasis:names:tc:SAML:2.0:status:Success":
            raise InvalidGrantError("The SAML Response is not a success.")
    # Defence against signature wrapping: the signature xmlsec1 verifies (the first one under the signed
    # element, in document order) must be the signed element's own enveloped signature, and its single
    # Reference must point at that element. The Assertion's signature is preferred; else the Response's.
    signed = assertion if assertion.find("ds:Signature", NS) is not None else root
    signature = signed.find("ds:Signature", NS)
    if signature is None or next(signed.iter(SIGNATURE)) is not signature:
        raise InvalidGrantError("The Assertion is not signed.")
    references = signature.findall("ds:SignedInfo/ds:Reference", NS)
    if len(references) != 1 or not signed.get("ID") or references[0].get("URI") != "#" + signed.get("ID"):
        raise InvalidGrantError("The signature does not cover the assertion.")
    if any(t.get("Algorithm") not in ALLOWED_TRANSFORMS for t in references[0].iter("{%s}Transform" % NS["ds"])):
        raise InvalidGrantError("Unsupported signature transform.")
    run_xmlsec1(xml_bytes, signed.get("ID"), client)

    # RFC 7522 §3 items 1-4 on the (now verified) Assertion.
    now = time.time()
    issuer = assertion.find("saml:Issuer", NS)
    if issuer is None or (issuer.text or "").strip() != client.saml_issuer:
        raise InvalidGrantError("Wrong Issuer.")
    conditions = assertion.find("saml:Conditions", NS)
    if conditions is None:
        raise InvalidGrantError("Missing Conditions.")
    restrictions = conditions.findall("saml:AudienceRestriction", NS)
    if not restrictions or any(STORE.token_url not in [(a.text or "").strip() for a in r.findall("saml:Audience", NS)]
                               for r in restrictions):
        raise InvalidGrantError("The token endpoint is not the Audience.")
    try:
        if conditions.get("NotBefore") and saml_time(conditions.get("NotBefore")) > now + SKEW:
            raise InvalidGrantError("Assertion not yet valid.")
        if conditions.get("NotOnOrAfter") and saml_time(conditions.get("NotOnOrAfter")) <= now - SKEW:
            raise InvalidGrantError("Assertion expired.")
        confirmed = False
        for confirmation in assertion.findall("saml:Subject/saml:SubjectConfirmation", NS):
            data = confirmation.find("saml:SubjectConfirmationData", NS)
            if confirmation.get("Method") != "urn:oasis:names:tc:SAML:2.0:cm:bearer" or data is None:
                continue
            if data.get("Recipient") != STORE.token_url:
                raise InvalidGrantError("The token endpoint is not the Recipient.")
            not_after = data.get("NotOnOrAfter") or conditions.get("NotOnOrAfter")
            if not not_after:
                raise InvalidGrantError("The assertion has no NotOnOrAfter.")
            if saml_time(not_after) <= now - SKEW:
                raise InvalidGrantError("Subject confirmation expired.")
            if data.get("NotBefore") and saml_time(data.get("NotBefore")) > now + SKEW:
                raise InvalidGrantError("Subject confirmation not yet valid.")
            confirmed = True
        if not confirmed:
            raise InvalidGrantError("No bearer SubjectConfirmation.")
    except ValueError:
        raise InvalidGrantError("Malformed SAML time.") from None
    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    subject = "".join(name_id.itertext()).strip() if name_id is not None else ""
    if not subject:
        raise InvalidGrantError("Missing Subject NameID.")
    return subject


def run_xmlsec1(xml_bytes, signed_id, client):
    # --enabled-key-data key-name: ignore keys carried in the signature's KeyInfo (KeyValue, X509Data),
    # so only the registered IdP certificate can verify. Without it xmlsec1 1.2.37 accepts a signature
    # made with any key whose public half is embedded in <ds:KeyValue>.
    with tempfile.NamedTemporaryFile(suffix=".xml") as document:
        document.write(xml_bytes)
        document.flush()
        command = ["xmlsec1", "--verify", "--enabled-key-data", "key-name", "--enabled-reference-uris", "same-doc",
                   "--pubkey-cert-pem", client.saml_certificate_file,
                   "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                   "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
                   "--node-id", signed_id, document.name]
        try:
            result = subprocess.run(command, capture_output=True, timeout=15, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            raise InvalidGrantError("The signature could not be checked.") from None
    if result.returncode != 0 or not re.search(rb"^OK$", result.stdout + result.stderr, re.M):
        raise InvalidGrantError("Invalid assertion signature.")


class SAML2BearerGrant(grants.BaseGrant, grants.TokenEndpointMixin):
    """RFC 7522 §2.1: grant_type=urn:ietf:params:oauth:grant-type:saml2-bearer&assertion=BASE64URL(XML)."""
    GRANT_TYPE = SAML2_BEARER
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_token_request(self):
        assertion = self.request.form.get("assertion")
        if not assertion:
            raise InvalidRequestError("Missing 'assertion' in request.")
        xml_bytes = decode_assertion(assertion)
        client = self.resolve_client(xml_bytes)
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(f"The client is not authorized to use 'grant_type={self.GRANT_TYPE}'")
        if not client.saml_certificate_file or not client.saml_issuer:
            raise UnauthorizedClientError("No SAML identity provider is registered for this client.")
        self.request.client = client
        self.validate_requested_scope()
        self.request.user = verify_saml(xml_bytes, client)

    def resolve_client(self, xml_bytes):
        # RFC 7521 §4.1: client authentication is optional. With credentials (or client_id) the client
        # authenticates as usual; without any, as in Salesforce's flow, the client is the one with
        # token_endpoint_auth_method "none" whose saml_issuer is the assertion's Issuer.
        form = self.request.form
        if self.request.headers.get("Authorization") or form.get("client_id") or form.get("client_assertion"):
            return self.authenticate_token_endpoint_client()
        match = re.search(rb"<(?:\w+:)?Issuer[^>]*>\s*([^<]+?)\s*<", xml_bytes)
        issuer = match.group(1).decode("utf-8", "replace") if match else None
        candidates = [c for c in STORE.clients.values() if c.token_endpoint_auth_method == "none"
                      and c.saml_issuer == issuer and c.check_grant_type(self.GRANT_TYPE)]
        if len(candidates) != 1:
            raise InvalidClientError(description="No client is registered for this assertion's issuer.")
        self.request.auth_method = "none"
        return candidates[0]

    def create_token_response(self):
        token = self.generate_token(user=self.request.user, scope=self.request.payload.scope,
                                    include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class SalesforceAssertionGrant(SAML2BearerGrant):
    """Salesforce's SAML assertion flow: grant_type=assertion&assertion_type=urn:oasis:names:tc:SAML:2.0:
    profiles:SSO:browser&assertion=BASE64(SAML Response)."""
    GRANT_TYPE = "assertion"

    def validate_token_request(self):
        if self.request.form.get("assertion_type") != SALESFORCE_ASSERTION_TYPE:
            raise InvalidRequestError(f"'assertion_type' must be {SALESFORCE_ASSERTION_TYPE}")
        super().validate_token_request()


# RFC 7009 token revocation.
class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        with STORE.lock:
            if token_type_hint == "refresh_token":
                return STORE.refresh_tokens.get(token_string) or STORE.access_tokens.get(token_string)
            return STORE.access_tokens.get(token_string) or STORE.refresh_tokens.get(token_string)

    def revoke_token(self, token, request):
        with STORE.lock:
            token.access_revoked = True
            if token.refresh_token == request.form.get("token"):  # §2.1: a refresh token takes its access token along
                token.refresh_revoked = True


# RFC 6750 bearer token validation for the protected resource.
class TokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        with STORE.lock:
            return STORE.access_tokens.get(token_string)


require_oauth = ResourceProtector()
require_oauth.register_token_validator(TokenValidator())

server.register_token_generator("default", generate_token)
server.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
server.register_grant(ClientCredentialsGrant)
server.register_grant(AuthorizationCodeGrant, [PKCEChallenge(required=True)])
server.register_grant(RefreshTokenGrant)
server.register_grant(JWTBearerGrantWithKeys)
server.register_grant(DeviceGrant)
server.register_grant(SAML2BearerGrant)
server.register_grant(SalesforceAssertionGrant)
server.register_endpoint(DeviceEndpoint)
server.register_endpoint(Revocation)


# ---------------------------------------------------------------------------------------------------
# Flask routes
# ---------------------------------------------------------------------------------------------------
app = Flask(__name__)


@app.before_request
def loopback_only():
    if not (request.remote_addr or "").startswith("127."):
        return jsonify(error="forbidden"), 403


@app.post("/oauth/token")
def token_endpoint():
    with STORE.lock:
        delay = STORE.delay
    if delay:
        time.sleep(delay)
    response = server.create_token_response()
    auth_method = getattr(g.get("oauth2_request"), "auth_method", None) if response.status_code == 200 else None
    STATS.record_token_request(request.form, response.status_code == 200, auth_method)
    return response


@app.get("/oauth/authorize")
def authorize():
    user = request.args.get("login_hint") or None  # auto-approval as this user; none = the user denies
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    if user is None and STORE.config.get("consent_page", False):
        return consent_page(request.args)
    return server.create_authorization_response(request=grant.request, grant_user=user, grant=grant)


def consent_page(params):
    """The consent form: the (already validated) authorization request's parameters as hidden inputs."""
    hidden = "".join(f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">\n'
                     for name in params.keys() for value in params.getlist(name)
                     if name not in ("user", "decision"))
    client = html.escape(params.get("client_id", ""))
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Authorize {client}</title></head>
<body>
<h1>Authorize {client}</h1>
<p>The application <b>{client}</b> asks for access ({html.escape(params.get("scope", ""))}).</p>
<form id="consent" method="post" action="/oauth/authorize">
{hidden}<label>User <input type="text" name="user" id="consent-user" autocomplete="off"></label>
<button id="approve" type="submit" name="decision" value="approve">Approve</button>
<button id="deny" type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
"""
    return page, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


@app.post("/oauth/authorize")
def authorize_decision():
    """The consent form's answer: approve as its user, or deny; the same grant path as login_hint."""
    if not STORE.config.get("consent_page", False):
        raise MethodNotAllowed(valid_methods=["GET", "HEAD", "OPTIONS"])  # as before the consent page existed
    approved = request.form.get("decision") == "approve" and request.form.get("user")
    user = request.form.get("user") if approved else None
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    return server.create_authorization_response(request=grant.request, grant_user=user, grant=grant)


@app.post("/oauth/device")
def device_authorization():
    return server.create_endpoint_response(DeviceEndpoint.ENDPOINT_NAME)


@app.post("/oauth/revoke")
def revoke():
    response = server.create_endpoint_response(Revocation.ENDPOINT_NAME)
    if response.status_code == 200:
        with STATS.lock:
            STATS.revocations += 1
    return response


@app.get("/api/me")
def me():
    try:
        token = require_oauth.acquire_token()
    except OAuth2Error:
        body = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        return jsonify(body), 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    return jsonify(sub=token.subject, client_id=token.client_id, scope=token.scope)


@app.get("/id/<subject>")
def identity(subject):
    """The identity URL of a session (Salesforce's /id/ORG/USER): who the bearer access token belongs
    to, when it belongs to SUBJECT; 401 otherwise. /id/redirect/SUBJECT answers 302 to /id/SUBJECT."""
    with STATS.lock:
        STATS.identity_requests += 1
    try:
        token = require_oauth.acquire_token()
    except OAuth2Error:
        return jsonify(error="invalid_token"), 401
    if token.subject != subject:
        return jsonify(error="not this session's identity"), 403
    return jsonify(user_id=subject, username=subject, email=subject + "@example.com")


@app.get("/id/redirect/<subject>")
def identity_redirect(subject):
    return "", 302, {"Location": "/id/" + subject}


@app.get("/_stats")
def stats():
    return jsonify(STATS.snapshot())


@app.post("/_client_secrets")
def client_secrets():
    """Adds (add=SECRET) or revokes (revoke=SECRET) a secret of client_id: the provider's side of a
    client-secret rotation. Answers the number of secrets the client has now."""
    with STORE.lock:
        client = STORE.clients.get(request.form.get("client_id", ""))
        if client is None:
            return jsonify(error="unknown client"), 404
        if request.form.get("add"):
            client.client_secrets.append(request.form["add"])
        if request.form.get("revoke"):
            client.client_secrets = [s for s in client.client_secrets if s != request.form["revoke"]]
        count = len(client.client_secrets)
    return jsonify(secrets=count)


@app.post("/admin/clients/<client_id>/secrets")
@app.post("/admin/clients/<client_id>/secrets/revoke")
def admin_client_secrets(client_id):
    """A provider's API for a client's secrets, as Sigil's oauth-client-secret rotator calls it:
    authenticated by the X-Admin-Key header (the config's admin_key), a form of client_id and
    client_secret; adding a secret twice answers 409, revoking an unknown one 404."""
    key = STORE.config.get("admin_key")
    if not key or request.headers.get("X-Admin-Key") != key:
        return jsonify(error="unauthorized"), 401
    secret = request.form.get("client_secret", "")
    if request.form.get("client_id") != client_id or not secret:
        return jsonify(error="client_id and client_secret expected"), 400
    with STORE.lock:
        client = STORE.clients.get(client_id)
        if client is None:
            return jsonify(error="unknown client"), 404
        if request.path.endswith("/revoke"):
            if secret not in client.client_secrets:
                return jsonify(error="no such secret"), 404
            client.client_secrets = [s for s in client.client_secrets if s != secret]
        else:
            if secret in client.client_secrets:
                return jsonify(error="already added"), 409
            client.client_secrets.append(secret)
        count = len(client.client_secrets)
    return jsonify(secrets=count)


@app.post("/_invalidate_access_tokens")
def invalidate_access_tokens():
    with STORE.lock:
        for token in STORE.access_tokens.values():
            token.access_revoked = True
        count = len(STORE.access_tokens)
    return jsonify(invalidated=count)


@app.post("/_invalidate_refresh_tokens")
def invalidate_refresh_tokens():
    with STORE.lock:
        for token in STORE.refresh_tokens.values():
            token.refresh_revoked = True
        count = len(STORE.refresh_tokens)
    return jsonify(invalidated=count)


@app.post("/_delay")
def set_delay():
    try:
        seconds = float(request.form.get("seconds", "0"))
    except ValueError:
        return jsonify(error="seconds must be a number"), 400
    with STORE.lock:
        STORE.delay = min(max(seconds, 0.0), 60.0)
    return jsonify(delay=STORE.delay)


@app.post("/_approve_device")
def approve_device():
    user_code, user = request.form.get("user_code"), request.form.get("user")
    approved = request.form.get("approved", "true").lower() != "false"
    with STORE.lock:
        known = any(c["user_code"] == user_code for c in STORE.devices.values())
        if known and user:
            STORE.user_grants[user_code] = (user, approved)
    if not (known and user):
        return jsonify(error="unknown user_code or missing user"), 404
    return jsonify(user_code=user_code, user=user, approved=approved)


# ---------------------------------------------------------------------------------------------------
# Start-up: bind, write INFO.json, serve until stdin closes.
# ---------------------------------------------------------------------------------------------------
def main():
    if len(sys.argv) != 3:
        print("usage: oauth_server.py CONFIG.json INFO.json", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        STORE.config = json.load(f)
    work_dir = tempfile.mkdtemp(prefix="sigil-oauth-")
    try:
        for entry in STORE.config.get("clients", []):
            client = Client(entry)
            if client.saml_certificate_pem:
                client.saml_certificate_file = os.path.join(work_dir, f"idp-{len(STORE.clients)}.crt")
                with open(client.saml_certificate_file, "w") as f:
                    f.write(client.saml_certificate_pem)
            STORE.clients[client.client_id] = client

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)  # room for a burst of concurrent connections
        port = listener.getsockname()[1]
        http = make_server("127.0.0.1", port, app, threaded=True, fd=listener.fileno())
        base = f"http://127.0.0.1:{port}"
        STORE.base_url, STORE.token_url = base, base + "/oauth/token"
        info = {"base_url": base, "token_url": STORE.token_url, "authorize_url": base + "/oauth/authorize",
                "device_url": base + "/oauth/device", "revoke_url": base + "/oauth/revoke",
                "resource_url": base + "/api/me", "pid": os.getpid()}
        with open(sys.argv[2] + ".tmp", "w") as f:
            json.dump(info, f)
        os.replace(sys.argv[2] + ".tmp", sys.argv[2])

        def watch_stdin():
            try:
                while sys.stdin.buffer.read(65536):
                    pass
            finally:
                http.shutdown()

        threading.Thread(target=watch_stdin, daemon=True).start()
        http.serve_forever(poll_interval=0.2)
        http.server_close()
        listener.close()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
