#!/usr/bin/env python3
"""How `sigil apply` scales with the size of the catalog (issue 10: it was quadratic), and how long
another writer waits for it.

Usage:  apply_scale.py SIGIL [SIZES...]     (default sizes: 5000 10000 20000)

For each size N: a fresh vault, a file with N users (each in one of 50 groups) and a grant to every
other user, then `sigil apply` timed (wall clock, peak RSS from /usr/bin/time when present); the
same file applied again (nothing changes: the file is read, checked and compared); and, during a
first apply of the largest size, a `sigil secret set` started while it runs: how long it waited.
Linear means seconds per 1,000 users stays flat as N grows.
"""
import os
import subprocess
import sys
import tempfile
import time


def config(path, users):
    with open(path, "w") as out:
        out.write("users:\n")
        for index in range(users):
            out.write(f"  - {{ name: user{index}, groups: [g{index % 50}] }}\n")
        out.write("externalCredentials:\n  - name: E\n    protocol: custom\n    principals:\n      - name: p\n")
        out.write("grants:\n  - { principal: E/p, to: [" + ", ".join(f"user:user{i}" for i in range(0, users, 2)) + "] }\n")


def run(sigil, env, *arguments, stdin=None):
    start = time.perf_counter()
    subprocess.run([sigil, *arguments], env=env, check=True, input=stdin, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def fresh(sigil, folder):
    for name in os.listdir(folder):
        if name.startswith(("vault", "master")):
            os.remove(os.path.join(folder, name))
    env = dict(os.environ, SIGIL_VAULT=f"{folder}/vault.db", SIGIL_KEY_FILE=f"{folder}/master.key", SIGIL_ACTOR="bench")
    run(sigil, env, "init")
    return env


def main():
    sigil = os.path.abspath(sys.argv[1])
    sizes = [int(size) for size in sys.argv[2:]] or [5000, 10000, 20000]
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'users':>7} {'first apply (s)':>16} {'s / 1000 users':>15} {'again (s)':>10}")
        for users in sizes:
            path = f"{folder}/users-{users}.yaml"
            config(path, users)
            env = fresh(sigil, folder)
            first = run(sigil, env, "apply", "-f", path)
            again = run(sigil, env, "apply", "-f", path)
            print(f"{users:>7} {first:>16.2f} {first / users * 1000:>15.3f} {again:>10.2f}")
        # Another writer during the largest apply's write transaction.
        users = sizes[-1]
        env = fresh(sigil, folder)
        with open(f"{folder}/x.yaml", "w") as out:
            out.write("externalCredentials:\n  - name: X\n    protocol: custom\n    principals:\n      - name: p\n")
        run(sigil, env, "apply", "-f", f"{folder}/x.yaml")
        applying = subprocess.Popen([sigil, "apply", "-f", f"{folder}/users-{users}.yaml"], env=env, stdout=subprocess.DEVNULL)
        waits = []
        while applying.poll() is None and len(waits) < 20:
            waits.append(run(sigil, env, "secret", "set", "X/p", "f", stdin=f"v{len(waits)}".encode()))
        applying.wait()
        print(f"secret set during a {users}-user apply: longest wait {max(waits):.2f} s over {len(waits)} sets (all succeeded)")


if __name__ == "__main__":
    main()
