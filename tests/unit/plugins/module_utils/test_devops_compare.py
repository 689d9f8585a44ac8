"""skip_unchanged's comparison of what would be sent with what Jira stores."""
from __future__ import annotations

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils._devops_compare import IGNORED, same

BUILD = {"pipelineId": "pink-logo", "buildNumber": 42, "state": "successful", "issueKeys": ["JJ-12", "JJ-2"],
         "updateSequenceNumber": 1700000000000, "lastUpdated": "2026-12-01T10:00:00Z", "schemaVersion": "1.0",
         "testInfo": {"totalNumber": 3, "numberPassed": 3, "numberFailed": 0}}


def stored(**changes):
    out = dict(BUILD)
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize("jira", [
    stored(updateSequenceNumber=1, lastUpdated="2020-01-01T00:00:00.000Z", schemaVersion=None),
    stored(issueKeys=["JJ-2", "JJ-12"]),
    stored(buildNumber="42"),
    stored(label=None, references=[]),
])
def test_what_jira_fills_adds_or_reorders_is_not_a_change(jira):
    assert same(BUILD, jira)


@pytest.mark.parametrize("jira", [
    stored(state="failed"),
    stored(issueKeys=["JJ-12"]),
    stored(label="rc-1"),
    stored(testInfo={"totalNumber": 3, "numberPassed": 2, "numberFailed": 1}),
    stored(testInfo=None),
    stored(buildNumber=True),
    [],
    None,
])
def test_a_difference_in_a_field_that_would_be_sent_or_removed_is_a_change(jira):
    assert not same(BUILD, jira)


def test_date_times_are_compared_as_instants():
    sent = {"authorTimestamp": "2024-05-01T12:30:00Z"}
    assert same(sent, {"authorTimestamp": "2024-05-01T12:30:00.000+00:00"})
    assert same(sent, {"authorTimestamp": "2024-05-01T14:30:00+02:00"})
    assert not same(sent, {"authorTimestamp": "2024-05-01T12:30:01Z"})


def test_lists_of_objects_keep_their_order_and_the_ignored_names_apply_at_any_depth():
    sent = {"details": [{"id": 1, "lastUpdated": "x"}, {"id": 2}]}
    assert same(sent, {"details": [{"id": 1}, {"id": 2, "lastUpdated": "y"}]})
    assert not same(sent, {"details": [{"id": 2}, {"id": 1}]})
    assert not same({"commands": [{"command": "x"}]}, {}, IGNORED)
    assert same({"commands": [{"command": "x"}]}, {}, IGNORED | {"commands"})
