#!/usr/bin/env python3
"""Catalogs of any size: what a large catalog costs a cold `sigil sign` and `sigil serve`, on SQLite
and on PostgreSQL.

Usage:  catalog_scale.py SIGIL [--users N] [--credentials N] [--runs N] [--user-runs N] [--serve-users N]
                              [--serve-passes N] [--sqlite-only]
        (defaults: 100000 users, 10000 credentials, 20 runs, 10 user runs, 200 serve users, 1 pass;
        about 5 minutes on 2 cores, most of it the one `sigil apply` that builds the large vault)

Two vaults are built with the release `sigil` itself, each by one `sigil apply` of a generated file
(one write transaction; the file's `authorizations:` list is the bulk path for per-user secrets,
which `sigil secret set --user` would otherwise take one process per user to write):
  small  one custom-protocol external credential (principal `p`, secret `apiKey`) and its named
         credential (a header `X-Api-Key: {!$Credential.NAME.apiKey}`, generateAuthorizationHeader:
         false, allowMergeFieldsInHeader: true);
  large  --credentials such pairs, each external credential with its own named principal and its own
         secret (none shared), plus --users users in one group, a per-user principal `U/per-user`
         (custom protocol, header `X-User-Token: {!$Credential.U.token}`) granted to that group and
         authorized by every user with a secret of their own (one authorization and one sealed
         secret per user), and an app user `invoicer` with actAs and an API key.
Every secret value is distinct and read from a file reference (file:secrets/NAME). The SQLite
vaults are then copied to PostgreSQL with `sigil vault copy` (a private server from
scripts/postgres, one database per vault).

Measured on each store, every sign a new process (key file, as cold_start.py; one unmeasured run
per vault first, to warm the page cache): `sigil sign callout:C0/x` on the small vault (a) and the
same shape of credential (one in the middle of the catalog) on the large vault (b), --runs runs
each: minimum, median and p90, and the difference of the medians; then `sigil sign --as USER
callout:U/x` on the large vault, a different user each of --user-runs runs. Then `sigil serve` on
the large vault: resident memory (VmRSS) once ready, after its first sign and at the end, and the
latency of `POST /v1/sign` as the invoicer acting as --serve-users different users (spread over
the 100,000) on the per-user credential, over one keep-alive connection (http.client), after a
warm-up of 10 requests as other users: the users' first requests (p50, p99, max and how many took
over 100 ms), and with --serve-passes above 1, further passes over the same users. Every output
is checked to carry the secret of the credential or user it was asked for.
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def percentile(samples, fraction):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * fraction))]


def write_secret(folder, name, value):
    with open(os.path.join(folder, "secrets", name), "w") as f:
        f.write(value)


def catalog(folder, path, credentials, users):
    """Writes the configuration file and its secret files; users == 0 means no per-user part."""
    os.makedirs(os.path.join(folder, "secrets"), exist_ok=True)
    lines = ["externalCredentials:"]
    for index in range(credentials):
        write_secret(folder, f"c{index}", f"api-key-{index}")
        lines.append(
            f"  - {{ name: C{index}, protocol: custom, customHeaders: [{{ name: X-Api-Key, value: \"{{!$Credential.C{index}.apiKey}}\" }}],"
            f" principals: [{{ name: p, type: named, secrets: {{ apiKey: file:secrets/c{index} }} }}] }}")
    if users:
        lines.append(
            "  - { name: U, protocol: custom, customHeaders: [{ name: X-User-Token, value: \"{!$Credential.U.token}\" }],"
            " principals: [{ name: per-user, type: per-user }] }")
    lines.append("namedCredentials:")
    for index in range(credentials):
        lines.append(
            f"  - {{ name: C{index}, url: \"https://api{index}.example/v1\", externalCredential: C{index},"
            " generateAuthorizationHeader: false, allowMergeFieldsInHeader: true }")
    if users:
        lines.append(
            "  - { name: U, url: \"https://users.example/v1\", externalCredential: U,"
            " generateAuthorizationHeader: false, allowMergeFieldsInHeader: true }")
        lines.append("users:")
        lines.append("  - { name: invoicer }")
        for index in range(users):
            lines.append(f"  - {{ name: u{index}, groups: [everyone] }}")
        lines.append("grants:\n  - { principal: U/per-user, to: [group:everyone] }")
        lines.append("authorizations:")
        for index in range(users):
            write_secret(folder, f"u{index}", f"user-token-{index}")
            lines.append(f"  - {{ principal: U/per-user, user: u{index}, secrets: {{ token: file:secrets/u{index} }} }}")
        lines.append("roles:\n  app: [{ subject: user:invoicer, actAs: true }]")
        lines.append("service:\n  apiKeys: { enabled: true }")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def sigil_run(sigil, env, *arguments, stdin=None):
    return subprocess.run([sigil, *arguments], env=env, check=True, input=stdin, capture_output=True, text=True).stdout


def timed_sign(sigil, env, arguments, expected):
    start = time.perf_counter()
    output = subprocess.run([sigil, "sign", *arguments], env=env, check=True, capture_output=True, text=True).stdout
    elapsed = (time.perf_counter() - start) * 1000
    if expected not in output.splitlines():
        sys.exit(f"catalog_scale: sign {arguments} printed {output!r}, without {expected!r}")
    return elapsed


def cold_signs(sigil, env, runs, case, warm=True):
    """case(i) -> (arguments, expected header line); one unmeasured run first (the page cache)."""
    if warm:
        timed_sign(sigil, env, *case(runs))
    return [timed_sign(sigil, env, *case(index)) for index in range(runs)]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Service:
    def __init__(self, sigil, env, folder):
        ready = os.path.join(folder, "ready.json")
        if os.path.exists(ready):
            os.remove(ready)
        self.log = open(os.path.join(folder, "serve.log"), "w")
        started = time.perf_counter()
        self.process = subprocess.Popen([sigil, "serve", "--listen", "127.0.0.1:0", "--ready-file", ready],
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT)
        while not (os.path.exists(ready) and os.path.getsize(ready) > 0):
            if self.process.poll() is not None:
                sys.exit(f"catalog_scale: sigil serve exited with {self.process.returncode}; see {self.log.name}")
            if time.perf_counter() - started > 300:
                sys.exit("catalog_scale: sigil serve was not ready after 300 s")
            time.sleep(0.01)
        self.ready_seconds = time.perf_counter() - started
        with open(ready) as f:
            info = json.load(f)
        self.pid = info["pid"]
        host, port = info["url"].split("//", 1)[1].rstrip("/").rsplit(":", 1)
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60)

    def sign(self, key, user):
        body = json.dumps({"method": "GET", "url": "callout:U/x", "as": user})
        start = time.perf_counter()
        self.connection.request("POST", "/v1/sign", body=body,
                                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        response = self.connection.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            sys.exit(f"catalog_scale: POST /v1/sign as {user}: {response.status} {data[:300]!r}")
        headers = json.loads(data)["headers"]
        number = user[1:]
        if ["X-User-Token", f"user-token-{number}"] not in headers:
            sys.exit(f"catalog_scale: POST /v1/sign as {user} answered {headers!r}")
        return elapsed

    def stop(self):
        self.connection.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def serve_figures(sigil, env, folder, key, users, serve_users, passes):
    service = Service(sigil, env, folder)
    try:
        figures = {"ready_s": service.ready_seconds, "rss_start": rss_kib(service.pid)}
        # The measured users are spread over the whole range; the warm-up uses others.
        step = max(1, users // serve_users)
        measured = [f"u{index}" for index in range(0, users, step)][:serve_users]
        warmup = [f"u{index + 1}" for index in range(0, users, max(1, users // 10))][:10]
        figures["first_ms"] = service.sign(key, warmup[0])
        figures["rss_first"] = rss_kib(service.pid)
        for user in warmup:
            service.sign(key, user)
        figures["pass1"] = [service.sign(key, user) for user in measured]
        figures["again"] = [service.sign(key, user) for _ in range(passes - 1) for user in measured]
        figures["rss_end"] = rss_kib(service.pid)
        return figures
    finally:
        service.stop()


def measure(store, sigil, small_env, large_env, folder, key, args):
    print(f"\n{store}:", flush=True)
    middle = args.credentials // 2
    small = cold_signs(sigil, small_env, args.runs, lambda i: (["callout:C0/x"], "X-Api-Key: api-key-0"))
    large = cold_signs(sigil, large_env, args.runs,
                       lambda i: ([f"callout:C{middle}/x"], f"X-Api-Key: api-key-{middle}"))
    spread = max(1, args.users // (args.user_runs + 1))
    per_user = cold_signs(sigil, large_env, args.user_runs,
                          lambda i: (["--as", f"u{i * spread}", "callout:U/x"], f"X-User-Token: user-token-{i * spread}"),
                          warm=False)
    rows = [("cold sign, 1 credential", small),
            (f"cold sign, {args.credentials:,} credentials + {args.users:,} users", large),
            ("cold sign --as user, per-user principal", per_user)]
    for name, samples in rows:
        print(f"  {name:52} min {min(samples):7.1f}  median {statistics.median(samples):7.1f}"
              f"  p90 {percentile(samples, 0.9):7.1f} ms", flush=True)
    difference = statistics.median(large) - statistics.median(small)
    print(f"  {'difference of medians (large - small)':52} {difference:+.1f} ms", flush=True)
    serve = serve_figures(sigil, large_env, folder, key, args.users, args.serve_users, args.serve_passes)
    print(f"  sigil serve: ready in {serve['ready_s']:.2f} s, VmRSS {serve['rss_start'] / 1024:.1f} MiB at start,"
          f" {serve['rss_first'] / 1024:.1f} MiB after the first sign ({serve['first_ms']:.1f} ms),"
          f" {serve['rss_end'] / 1024:.1f} MiB at the end", flush=True)
    for name in ("pass1", "again"):
        samples = serve[name]
        if not samples:
            continue
        label = (f"first request of {len(samples)} users" if name == "pass1"
                 else f"{len(samples)} more, same users")
        slow = sum(1 for sample in samples if sample > 100)
        print(f"  POST /v1/sign, {label:34} p50 {percentile(samples, 0.5):6.2f} ms  p99 {percentile(samples, 0.99):7.2f} ms"
              f"  max {max(samples):7.1f} ms  ({slow} over 100 ms)", flush=True)
    return {"small": small, "large": large, "per_user": per_user, "serve": serve}


def createdb(port, name):
    subprocess.run(["createdb", "--host=127.0.0.1", f"--port={port}", "--username=sigil", name], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sigil")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--credentials", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--user-runs", type=int, default=10)
    parser.add_argument("--serve-users", type=int, default=200)
    parser.add_argument("--serve-passes", type=int, default=1)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    args.users = max(args.users, args.serve_users + 10, args.user_runs + 1)
    args.serve_passes = max(1, args.serve_passes)
    args.credentials = max(1, args.credentials)
    sigil = os.path.abspath(args.sigil)
    results = {}
    began = time.perf_counter()
    print("load average at start: %.1f %.1f %.1f" % os.getloadavg(), flush=True)
    with tempfile.TemporaryDirectory() as home:
        def environment(name, vault):
            return dict(os.environ, HOME=home, SIGIL_VAULT=vault, SIGIL_KEY_FILE=os.path.join(home, f"{name}.key"),
                        SIGIL_ACTOR="bench")

        small_env = environment("small", os.path.join(home, "small.db"))
        large_env = environment("large", os.path.join(home, "large.db"))
        started = time.perf_counter()
        catalog(home, os.path.join(home, "small.yaml"), 1, 0)
        catalog(home, os.path.join(home, "large.yaml"), args.credentials, args.users)
        generated = time.perf_counter() - started
        sigil_run(sigil, small_env, "init")
        sigil_run(sigil, small_env, "apply", "-f", os.path.join(home, "small.yaml"))
        sigil_run(sigil, large_env, "init")
        started = time.perf_counter()
        sigil_run(sigil, large_env, "apply", "-f", os.path.join(home, "large.yaml"))
        applied = time.perf_counter() - started
        key = sigil_run(sigil, large_env, "apikey", "create", "invoicer").strip()
        size = os.path.getsize(large_env["SIGIL_VAULT"]) / 2**20
        print(f"fixture: {args.credentials:,} credentials, {args.users:,} users and authorizations: file and secrets"
              f" written in {generated:.1f} s, one `sigil apply` in {applied:.1f} s, vault file {size:.0f} MiB", flush=True)
        results["SQLite"] = measure("SQLite (a file)", sigil, small_env, large_env, home, key, args)

        if not args.sqlite_only:
            # Outside `home` (mode 700): the server runs as its own user when this runs as root.
            postgres = tempfile.mkdtemp(prefix="sigil-bench-postgres.")
            try:
                url = subprocess.run([os.path.join(ROOT, "scripts/postgres"), "start", postgres], check=True,
                                     capture_output=True, text=True).stdout.strip()
                port = url.rsplit(":", 1)[1].split("/")[0]
                createdb(port, "small")
                createdb(port, "large")
                small_pg = dict(small_env, SIGIL_VAULT=f"postgres://sigil@127.0.0.1:{port}/small")
                large_pg = dict(large_env, SIGIL_VAULT=f"postgres://sigil@127.0.0.1:{port}/large")
                sigil_run(sigil, small_env, "vault", "copy", "--from", small_env["SIGIL_VAULT"], "--to", small_pg["SIGIL_VAULT"])
                started = time.perf_counter()
                sigil_run(sigil, large_env, "vault", "copy", "--from", large_env["SIGIL_VAULT"], "--to", large_pg["SIGIL_VAULT"])
                print(f"\nfixture copied to PostgreSQL (`sigil vault copy`) in {time.perf_counter() - started:.1f} s", flush=True)
                results["PostgreSQL"] = measure("PostgreSQL (local, loopback)", sigil, small_pg, large_pg, home, key, args)
            finally:
                subprocess.run([os.path.join(ROOT, "scripts/postgres"), "stop", postgres], check=False)
                shutil.rmtree(postgres, ignore_errors=True)

    print(f"\nsummary ({args.credentials:,} credentials, {args.users:,} users; ms; cold sign median / p90,"
          f" serve p50 / p99 over {args.serve_users} users' first requests)")
    print(f"{'store':12} {'sign, 1 cred':>14} {'sign, large':>14} {'difference':>11} {'sign --as':>14}"
          f" {'RSS start/1st':>15} {'serve p50/p99':>15}")
    for store, r in results.items():
        pair = lambda s: f"{statistics.median(s):.0f} / {percentile(s, 0.9):.0f}"
        serve = r["serve"]
        print(f"{store:12} {pair(r['small']):>14} {pair(r['large']):>14}"
              f" {statistics.median(r['large']) - statistics.median(r['small']):>+11.0f} {pair(r['per_user']):>14}"
              f" {serve['rss_start'] / 1024:>6.0f}/{serve['rss_first'] / 1024:.0f} MiB"
              f" {percentile(serve['pass1'], 0.5):>7.1f} / {percentile(serve['pass1'], 0.99):.1f}")
    print(f"total {time.perf_counter() - began:.0f} s; load average at the end: %.1f %.1f %.1f" % os.getloadavg())


if __name__ == "__main__":
    main()
