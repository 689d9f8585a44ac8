"""The version in the User-Agent is galaxy.yml's: a release bump that forgets _version.py fails here."""
from __future__ import annotations

import os

import yaml

from ansible_collections.jiraops.integration.plugins.module_utils._options import build_client
from ansible_collections.jiraops.integration.plugins.module_utils._version import COLLECTION_VERSION

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 4))


def galaxy_version():
    with open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["version"]


def test_collection_version_is_galaxy_yml_version():
    assert COLLECTION_VERSION == galaxy_version(), (
        f"plugins/module_utils/_version.py says {COLLECTION_VERSION}, galaxy.yml says {galaxy_version()}: "
        "bump both (docs/releasing.md)")


def test_requests_carry_the_galaxy_yml_version_in_the_user_agent(emulator):
    params = {"url": emulator.url, "auth_method": "auto", "timeout": 5, "validate_certs": True, "max_retries": 0,
              "retry_budget": 5, "username": "alice", "password": "alice-password"}
    build_client(params).get("/rest/api/2/myself")
    sent = emulator.requests("/rest/api/2/myself")
    assert [r["headers"].get("User-Agent") for r in sent] == [f"jiraops.integration/{galaxy_version()}"]
