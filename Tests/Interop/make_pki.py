"""Writes a small PKI for the mTLS tests into the folder argv[1], with Python's cryptography:

  ca.crt/ca.key           the CA the TLS server trusts for client certificates (and that signs the server)
  other-ca.crt            another CA
  server.crt/server.key   the server, for 127.0.0.1 and localhost, signed by ca
  client.crt/client.key   a client signed by ca, valid now
  other.crt/other.key     a client signed by other-ca
  expired.crt/expired.key a client signed by ca that expired in 2020
"""
import datetime
import ipaddress
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

folder = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)


def write(name, key, cert):
    with open(f"{folder}/{name}.key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(f"{folder}/{name}.crt", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def certificate(name, key, issuer=None, issuer_key=None, ca=False, server=False, not_before=None, not_after=None):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.subject if issuer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - datetime.timedelta(hours=1))
               .not_valid_after(not_after or now + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


ca_key, other_ca_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
ca = certificate("Sigil test CA", ca_key, ca=True)
other_ca = certificate("Another CA", other_ca_key, ca=True)
write("ca", ca_key, ca)
write("other-ca", other_ca_key, other_ca)
for name, issuer, issuer_key, extra in [
    ("server", ca, ca_key, {"server": True}),
    ("client", ca, ca_key, {}),
    ("other", other_ca, other_ca_key, {}),
    ("expired", ca, ca_key, {"not_before": datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
                             "not_after": datetime.datetime(2020, 6, 1, tzinfo=datetime.timezone.utc)}),
]:
    key = ec.generate_private_key(ec.SECP256R1())
    write(name, key, certificate(name, key, issuer, issuer_key, **extra))
