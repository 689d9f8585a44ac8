"""The bare minimum: a Python ``requests`` script POSTing the same builds in the same batches of 100.

No validation, no retries, no error handling beyond checking the status: the floor the module is measured against.
Usage: bare_requests.py BUILDS_JSON URL CLOUD_ID TOKEN
"""
from __future__ import annotations

import json
import sys

import requests


def main(path, url, cloud_id, token):
    with open(path, encoding="utf-8") as handle:
        builds = json.load(handle)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    endpoint = f"{url}/jira/builds/0.1/cloud/{cloud_id}/bulk"
    accepted = 0
    for start in range(0, len(builds), 100):
        resp = session.post(endpoint, json={"builds": builds[start:start + 100]}, timeout=30)
        resp.raise_for_status()
        accepted += len(resp.json()["acceptedBuilds"])
    if accepted != len(builds):
        sys.exit(f"only {accepted} of {len(builds)} builds accepted")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
