"""A private OpenLDAP server (Debian's slapd) for the service's directory authenticator tests.

Usage: python3 ldap_server.py INFO.json PKI_FOLDER

Writes a slapd.conf and an LDIF into a temporary folder, loads the LDIF with slapadd, and runs
slapd in the foreground on a free loopback port, with StartTLS offered under PKI_FOLDER's
server.crt/server.key (make_pki.py's, for 127.0.0.1). The directory, under dc=example,dc=org:

  uid=alice,ou=people     password alice-directory-password, member of cn=sigil-operators
  uid=carol,ou=people     password carol-directory-password, in no group
  cn=sigil-operators,ou=groups   groupOfNames

Passwords are readable only for binding. Writes {"url", "base", "pid"} to INFO.json once slapd
accepts connections; runs until its standard input closes, then stops slapd.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

info_path, pki = sys.argv[1], sys.argv[2]
folder = tempfile.mkdtemp(prefix="sigil-ldap-")
base = "dc=example,dc=org"
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]

os.makedirs(f"{folder}/db")
with open(f"{folder}/slapd.conf", "w") as conf:
    conf.write(f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
TLSCACertificateFile {pki}/ca.crt
TLSCertificateFile {pki}/server.crt
TLSCertificateKeyFile {pki}/server.key
database mdb
maxsize 10485760
suffix "{base}"
rootdn "cn=admin,{base}"
rootpw not-used-by-the-tests-{os.getpid()}
directory {folder}/db
access to attrs=userPassword by anonymous auth by self read by * none
access to * by users read by * none
""")
people = {"alice": "alice-directory-password", "carol": "carol-directory-password"}
with open(f"{folder}/data.ldif", "w") as ldif:
    ldif.write(f"dn: {base}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n")
    for unit in ["people", "groups"]:
        ldif.write(f"dn: ou={unit},{base}\nobjectClass: organizationalUnit\nou: {unit}\n\n")
    for user, password in people.items():
        ldif.write(f"dn: uid={user},ou=people,{base}\nobjectClass: inetOrgPerson\nuid: {user}\ncn: {user}\n"
                   f"sn: {user}\nuserPassword: {password}\n\n")
    ldif.write(f"dn: cn=sigil-operators,ou=groups,{base}\nobjectClass: groupOfNames\ncn: sigil-operators\n"
               f"member: uid=alice,ou=people,{base}\n\n")
subprocess.run(["slapadd", "-q", "-f", f"{folder}/slapd.conf", "-l", f"{folder}/data.ldif"], check=True,
               stdout=subprocess.DEVNULL)
log = open(f"{folder}/slapd.log", "w")
slapd = subprocess.Popen(["slapd", "-f", f"{folder}/slapd.conf", "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"],
                         stdout=log, stderr=log)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        break
    except OSError:
        if slapd.poll() is not None:
            break
        time.sleep(0.1)
else:
    slapd.kill()
    sys.exit("slapd did not start")
if slapd.poll() is not None:
    sys.exit("slapd exited: " + open(f"{folder}/slapd.log").read()[-2000:])
with open(info_path + ".tmp", "w") as out:
    json.dump({"url": f"ldap://127.0.0.1:{port}", "base": base, "pid": slapd.pid}, out)
os.rename(info_path + ".tmp", info_path)
try:
    sys.stdin.read()
finally:
    slapd.terminate()
    try:
        slapd.wait(10)
    except subprocess.TimeoutExpired:
        slapd.kill()
    shutil.rmtree(folder, ignore_errors=True)
