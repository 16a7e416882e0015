"""A SAML 2.0 identity provider's responses for the service's SAML tests, signed with signxml (an
independent XML-signature implementation, on lxml and cryptography).

Usage: python3 saml_idp.py KEY.pem CERT.pem  < REQUEST.json  > base64 SAMLResponse

REQUEST.json: {"issuer", "audience", "recipient", "destination", "in_response_to", "subject",
"attributes": {name: [values]}, "not_before": unix, "not_on_or_after": unix, "sign": "assertion" |
"response", "tamper": null | "forge-subject" | "wrap" | "embedded-key"}

tamper:
  forge-subject  the NameID is changed after signing (the signature no longer matches)
  wrap           a second, unsigned assertion for another subject is put before the signed one
  embedded-key   signed with a fresh key whose certificate is put in KeyInfo (not the IdP's key)
"""
import base64
import datetime
import json
import secrets
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NSMAP = {"samlp": SAMLP, "saml": SAML}


def iso(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def element(parent, ns, name, text=None, **attributes):
    node = etree.SubElement(parent, f"{{{ns}}}{name}", {k: v for k, v in attributes.items() if v is not None})
    if text is not None:
        node.text = text
    return node


def assertion(request, subject):
    now = int(request.get("now", datetime.datetime.now(datetime.timezone.utc).timestamp()))
    node = etree.Element(f"{{{SAML}}}Assertion", {"ID": "_a" + secrets.token_hex(16), "Version": "2.0",
                                                  "IssueInstant": iso(now)}, nsmap={"saml": SAML})
    element(node, SAML, "Issuer", request["issuer"])
    subject_node = element(node, SAML, "Subject")
    element(subject_node, SAML, "NameID", subject, Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")
    confirmation = element(subject_node, SAML, "SubjectConfirmation", Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
    element(confirmation, SAML, "SubjectConfirmationData", Recipient=request["recipient"],
            NotOnOrAfter=iso(request["not_on_or_after"]), InResponseTo=request.get("in_response_to"))
    conditions = element(node, SAML, "Conditions", NotBefore=iso(request["not_before"]),
                         NotOnOrAfter=iso(request["not_on_or_after"]))
    element(element(conditions, SAML, "AudienceRestriction"), SAML, "Audience", request["audience"])
    element(node, SAML, "AuthnStatement", AuthnInstant=iso(now))
    if request.get("attributes"):
        statement = element(node, SAML, "AttributeStatement")
        for name, values in request["attributes"].items():
            attribute = element(statement, SAML, "Attribute", Name=name)
            for value in values:
                element(attribute, SAML, "AttributeValue", value)
    return node


def sign(node, key_pem, cert_pem):
    signer = XMLSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                       c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    signer.namespaces = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    signed = signer.sign(node, key=key_pem, cert=cert_pem, reference_uri=node.get("ID"))
    # SAML puts the signature right after the Issuer (saml-core §5.4.1 / the schema's sequence).
    signature = signed.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    signed.remove(signature)
    signed.insert(1, signature)
    return signed


def fresh_identity():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()), cert.public_bytes(serialization.Encoding.PEM))


def main():
    key_pem, cert_pem = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
    request = json.load(sys.stdin)
    tamper = request.get("tamper")
    if tamper == "embedded-key":
        key_pem, cert_pem = fresh_identity()
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    attributes = {"ID": "_r" + secrets.token_hex(16), "Version": "2.0", "IssueInstant": iso(now),
                  "Destination": request.get("destination"), "InResponseTo": request.get("in_response_to")}
    response = etree.Element(f"{{{SAMLP}}}Response", {k: v for k, v in attributes.items() if v is not None},
                             nsmap=NSMAP)
    element(response, SAML, "Issuer", request["issuer"])
    element(element(response, SAMLP, "Status"), SAMLP, "StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success")
    the_assertion = assertion(request, request["subject"])
    if request.get("sign", "assertion") == "assertion":
        response.append(sign(the_assertion, key_pem, cert_pem))
    else:
        response.append(the_assertion)
        response = sign(response, key_pem, cert_pem)
    if tamper == "forge-subject":
        for name_id in response.iter(f"{{{SAML}}}NameID"):
            name_id.text = "admin"
    if tamper == "wrap":
        response.insert(2, assertion(request, "admin"))
    sys.stdout.write(base64.b64encode(etree.tostring(response)).decode())


main()
