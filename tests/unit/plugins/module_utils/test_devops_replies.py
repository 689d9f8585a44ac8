"""Which sent builds a 202 reply leaves unconfirmed: the in-order fast path and the normalising comparison agree."""
from __future__ import annotations

from ansible_collections.jiraops.integration.plugins.module_utils._devops_apis import BuildsApi

API = BuildsApi()
BUILDS = [{"pipelineId": "p", "buildNumber": n} for n in range(3)]
KEYS = [{"pipelineId": "p", "buildNumber": n} for n in range(3)]


def reply(accepted, rejected=()):
    return {"acceptedBuilds": list(accepted), "rejectedBuilds": [{"key": k, "errors": []} for k in rejected]}


def test_every_build_accepted_in_order_leaves_none_unconfirmed():
    assert API.unconfirmed(reply(KEYS), BUILDS) == []


def test_accepted_out_of_order_or_numbers_as_text_still_confirm():
    as_text = [{"buildNumber": str(k["buildNumber"]), "pipelineId": k["pipelineId"]} for k in reversed(KEYS)]
    assert API.unconfirmed(reply(as_text), BUILDS) == []
    assert API.unconfirmed(reply(KEYS[1:], rejected=KEYS[:1]), BUILDS) == []


def test_a_build_the_reply_does_not_name_is_unconfirmed():
    assert API.unconfirmed(reply(KEYS[:1] + KEYS[2:]), BUILDS) == [KEYS[1]]
    assert API.unconfirmed(reply(KEYS[:2] + [{"pipelineId": "p", "buildNumber": 9}]), BUILDS) == [KEYS[2]]
    assert API.unconfirmed({}, BUILDS) == KEYS
