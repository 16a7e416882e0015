"""A command rotator for Sigil's tests: a provider of API keys in a folder, rotated step by step.

Usage: command_rotator.py FOLDER MODE. Reads one JSON document on standard input (Sigil's command
rotator protocol); FOLDER/accepted.json holds the keys the "provider" accepts, FOLDER/log.jsonl gets
one line per run: the step, the environment's names, the document's keys and the owner (never a
value). MODE: ok; fail-test (the test step fails, printing the pending value on standard error, which
Sigil must not repeat); slow (create sleeps 30 s); bad-output (create prints no JSON); loud (create
prints 100 KiB); spawner (create leaves a child that keeps standard output open and sleeps).
"""
import json
import os
import secrets
import subprocess
import sys
import time

folder, mode = sys.argv[1], sys.argv[2]
document = json.load(sys.stdin)
step = document["step"]
accepted_path = os.path.join(folder, "accepted.json")
accepted = json.load(open(accepted_path)) if os.path.exists(accepted_path) else []
with open(os.path.join(folder, "log.jsonl"), "a") as log:
    log.write(json.dumps({"step": step, "env": sorted(os.environ), "keys": sorted(document),
                          "owner": document["owner"], "fields": document["fields"],
                          "version": document["version"], "argv": sys.argv[1:]}) + "\n")


def save():
    with open(accepted_path + ".tmp", "w") as f:
        json.dump(accepted, f)
    os.replace(accepted_path + ".tmp", accepted_path)


if step == "create":
    if mode == "slow":
        time.sleep(30)
    if mode == "bad-output":
        print("new key made")
        sys.exit(0)
    if mode == "loud":
        sys.stdout.write("x" * 100_000)
        sys.exit(0)
    if mode == "spawner":
        subprocess.Popen(["sleep", "30"])
        time.sleep(30)
    print(json.dumps({"values": {field: "cmd-" + secrets.token_hex(16) for field in document["fields"]}}))
elif step == "set":
    for value in document["pending"].values():
        if value not in accepted:
            accepted.append(value)
    save()
elif step == "test":
    pending = list(document["pending"].values())
    if mode == "fail-test":
        print(f"the provider refused {pending[0]}", file=sys.stderr)
        sys.exit(3)
    sys.exit(0 if all(value in accepted for value in pending) else 4)
elif step == "finish":
    pass
elif step == "retire":
    for value in document["retire"].values():
        if value in accepted:
            accepted.remove(value)
    save()
else:
    print(f"unknown step {step}", file=sys.stderr)
    sys.exit(2)
