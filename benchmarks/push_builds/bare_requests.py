"""The bare minimum: a Python ``requests`` script POSTing the same builds in the same batches of 100.

No validation, no retries, no error handling beyond checking the status: the floor the module is measured against.
With WORKERS > 1 the batches go out over that many threads (one session each), for context only.
Usage: bare_requests.py BUILDS_JSON URL CLOUD_ID TOKEN [WORKERS]
"""
from __future__ import annotations

import json
import sys

import requests


def main(path, url, cloud_id, token, workers="1"):
    with open(path, encoding="utf-8") as handle:
        builds = json.load(handle)
    endpoint = f"{url}/jira/builds/0.1/cloud/{cloud_id}/bulk"
    starts = range(0, len(builds), 100)
    if int(workers) > 1:
        accepted = threaded(builds, endpoint, token, starts, int(workers))
    else:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        accepted = 0
        for start in starts:
            resp = session.post(endpoint, json={"builds": builds[start:start + 100]}, timeout=30)
            resp.raise_for_status()
            accepted += len(resp.json()["acceptedBuilds"])
    if accepted != len(builds):
        sys.exit(f"only {accepted} of {len(builds)} builds accepted")
    return 0


def threaded(builds, endpoint, token, starts, workers):
    """The same batches over ``workers`` threads, one session each (imports kept out of the sequential way)."""
    import threading  # pylint: disable=import-outside-toplevel
    from concurrent.futures import ThreadPoolExecutor  # pylint: disable=import-outside-toplevel

    local = threading.local()

    def send(start):
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
        resp = session.post(endpoint, json={"builds": builds[start:start + 100]}, timeout=30)
        resp.raise_for_status()
        return len(resp.json()["acceptedBuilds"])

    with ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(send, starts))


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
