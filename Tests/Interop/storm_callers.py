#!/usr/bin/env python3
"""Many callers at once against `sigil serve` replicas (issue 16's storm test).

    storm_callers.py --key API_KEY --count N --url CALLOUT URL [URL...]

Starts N threads, released together by a barrier; caller i sends `POST /v1/sign` for CALLOUT to
replica i mod len(URLs) with the API key, and notes the answer's status and the Authorization header
of the signed request. Prints one JSON object: {"statuses": {status: count}, "authorizations":
[distinct values], "by_replica": {url: count}, "errors": [first few failures]}. Standard library only;
every request has a 120-second timeout, so the run is bounded.
"""
import argparse
import collections
import json
import threading
import urllib.error
import urllib.request


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--url", required=True, help="the callout to sign, e.g. callout:Api/api/me")
    parser.add_argument("replicas", nargs="+")
    args = parser.parse_args()

    barrier = threading.Barrier(args.count)
    lock = threading.Lock()
    statuses, by_replica = collections.Counter(), collections.Counter()
    authorizations, errors = set(), []
    body = json.dumps({"method": "GET", "url": args.url}).encode()

    def call(index):
        replica = args.replicas[index % len(args.replicas)]
        request = urllib.request.Request(
            replica + "/v1/sign", data=body, method="POST",
            headers={"Authorization": "Bearer " + args.key, "Content-Type": "application/json"})
        barrier.wait(timeout=120)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, answer = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            status, answer = error.code, {"error": error.read().decode("utf-8", "replace")[:300]}
        except Exception as error:  # a refused or reset connection: counted, not raised
            status, answer = 0, {"error": type(error).__name__ + ": " + str(error)[:300]}
        with lock:
            statuses[str(status)] += 1
            by_replica[replica] += 1
            if status == 200:
                for name, value in answer.get("headers", []):
                    if name.lower() == "authorization":
                        authorizations.add(value)
            elif len(errors) < 5:
                errors.append(answer.get("error"))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(args.count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    print(json.dumps({"statuses": dict(statuses), "authorizations": sorted(authorizations),
                      "by_replica": dict(by_replica), "errors": errors}))


if __name__ == "__main__":
    main()
