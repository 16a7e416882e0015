"""Starts moto's server with IAM authentication on, for Sigil's acceptance tests.

Creates (while authentication is still off) a user with an access key and an allow-all policy and
a role the user may assume, then writes {"endpoint", "access_key", "secret_key", "role_arn",
"user_arn"} as JSON to the file named by argv[1] and keeps the server running until standard
input closes. Every request
after the set-up must carry a valid SigV4 signature.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import boto3

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
environment = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="4", AWS_DEFAULT_REGION="us-east-1")
server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                          env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
try:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    endpoint = f"http://127.0.0.1:{port}"
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
    user = iam.create_user(UserName="sigil")["User"]
    key = iam.create_access_key(UserName="sigil")["AccessKey"]
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="sigil", PolicyName="all", PolicyDocument=json.dumps(allow_all))
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    with open(sys.argv[1] + ".tmp", "w") as out:
        json.dump({"endpoint": endpoint, "access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"],
                   "role_arn": role["Arn"], "user_arn": user["Arn"]}, out)
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    sys.stdin.read()
finally:
    # moto may start helper processes: end its whole process group, by force if it lingers.
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
