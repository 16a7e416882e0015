#!/usr/bin/env python3
"""Cold start of the `sigil` CLI: one process that opens the vault and decorates a request with an
OAuth 2.0 token (issue 4's target: under 50 ms, start-up included).

Usage:  cold_start.py SIGIL [RUNS]

A real Authlib authorization server (Tests/Interop/oauth_server.py) issues one token through
`sigil token`; it is then sealed in the vault, and every measured `sigil sign` is a new process
that reads the vault, unseals that token and prints the decorated request, as a script would. The
vault is unlocked with a key file (a passphrase adds Argon2id's deliberate cost). Prints the
minimum, median and 90th percentile of RUNS runs (default 40), and the same for `sigil --version`
(the process start alone).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def timed(command, env):
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def summary(name, samples):
    samples = sorted(samples)
    p90 = samples[min(len(samples) - 1, int(len(samples) * 0.9))]
    print(f"{name:42} min {samples[0]:6.1f} ms   median {statistics.median(samples):6.1f} ms   p90 {p90:6.1f} ms")


def main():
    sigil = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    with tempfile.TemporaryDirectory() as home:
        config, info_path = os.path.join(home, "oauth.json"), os.path.join(home, "info.json")
        with open(config, "w") as f:
            json.dump({"clients": [{"client_id": "svc", "client_secret": "bench-secret",
                                    "grant_types": ["client_credentials"], "scope": "read"}],
                       "access_token_lifetime": 3600}, f)
        server = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/Interop/oauth_server.py"), config, info_path],
                                  stdin=subprocess.PIPE)
        try:
            for _ in range(200):
                if os.path.exists(info_path) and os.path.getsize(info_path) > 0:
                    break
                time.sleep(0.05)
            with open(info_path) as f:
                info = json.load(f)
            env = dict(os.environ, HOME=home, SIGIL_VAULT=os.path.join(home, "vault.db"),
                       SIGIL_KEY_FILE=os.path.join(home, "master.key"), CLIENT_SECRET="bench-secret")
            with open(os.path.join(home, "sigil.yaml"), "w") as f:
                f.write(f"""externalCredentials:
  - name: Api
    protocol: oauth2
    parameters: {{ tokenUrl: "{info['token_url']}", grantType: client_credentials, clientId: svc, clientAuth: basic, scope: read }}
    principals:
      - {{ name: service, secrets: {{ clientSecret: env:CLIENT_SECRET }} }}
namedCredentials:
  - {{ name: Api, url: "{info['base_url']}", externalCredential: Api }}
""")
            subprocess.run([sigil, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
            subprocess.run([sigil, "apply", "-f", os.path.join(home, "sigil.yaml")], env=env, check=True, stdout=subprocess.DEVNULL)
            subprocess.run([sigil, "token", "Api"], env=env, check=True, stdout=subprocess.DEVNULL)
            sign = [sigil, "sign", "callout:Api/api/me"]
            for _ in range(3):  # warm the page cache, as on a machine where sigil runs often
                timed(sign, env)
            summary("sigil --version (process start)", [timed([sigil, "--version"], env) for _ in range(runs)])
            summary("sigil sign, OAuth 2.0 token from the vault", [timed(sign, env) for _ in range(runs)])
            with urllib.request.urlopen(info["base_url"] + "/_stats", timeout=10) as response:
                requests = json.load(response)["token_requests"]
            if requests != 1:  # every measured run must have used the sealed token, not the server
                sys.exit(f"cold_start: the server answered {requests} token requests, not 1")
        finally:
            server.stdin.close()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
