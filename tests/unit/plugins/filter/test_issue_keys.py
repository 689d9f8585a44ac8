"""The issue_keys filter on the documented edge cases."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.jiraops.integration.plugins.filter.issue_keys import FilterModule, issue_keys


@pytest.mark.parametrize("text,keys", [
    ("feature/JJ-12-pink-logo", ["JJ-12"]),
    ("JJ-12_pink", ["JJ-12"]),
    ("[JJ-12][OPS-7] fix", ["JJ-12", "OPS-7"]),
    ("see https://jira.example.com/browse/JJ-12?focusedCommentId=1", ["JJ-12"]),
    ("Merge branch 'feature/JJ-3-x' into main (JJ-2, JJ-3)", ["JJ-3", "JJ-2"]),
    ("XJJ-12a JJ-012 JJ-0 J-1 jj-12", []),
    ("A2_B-9", ["A2_B-9"]),
    ("UTF-8, ISO-8859-1 and SHA-256 are not issues", []),
    ("Größe ÄJJ-12 geändert für JJ-2 ✓", ["JJ-2"]),
    ("", []),
])
def test_keys_found_in_text(text, keys):
    assert issue_keys(text) == keys


def test_lists_are_walked_in_order_and_deduplicated():
    value = ["feature/JJ-12-pink-logo", ["JJ-12 make it pinker", "OPS-7 rotate keys\n\nAlso JJ-2"], None]
    assert issue_keys(value) == ["JJ-12", "OPS-7", "JJ-2"]


def test_project_allow_list():
    assert issue_keys("JJ-1 OPS-2 UTF-8", projects=["jj", "UTF"], exclude=[]) == ["JJ-1", "UTF-8"]
    assert issue_keys("JJ-1 OPS-2", projects="OPS") == ["OPS-2"]


def test_lower_case_only_on_request():
    assert issue_keys("bugfix/jj-7-typo") == []
    assert issue_keys("bugfix/jj-7-typo and Jj-7", ignore_case=True) == ["JJ-7"]
    # Case folding must not turn non-ASCII letters into a project key (the Kelvin sign folds to k).
    assert issue_keys("\u212aK-1", ignore_case=True) == []


def test_exclusions_can_be_turned_off():
    assert issue_keys("UTF-8", exclude=[]) == ["UTF-8"]


def test_bytes_are_utf8():
    assert issue_keys("JJ-4 ä".encode("utf-8")) == ["JJ-4"]


def test_bad_input_names_the_place():
    with pytest.raises(AnsibleFilterError, match=r"issue_keys: input\[1\] must be a string or a list of strings, not int"):
        issue_keys(["JJ-1", 5])


@pytest.mark.parametrize("kwargs,message", [
    ({"projects": {"JJ": 1}}, "issue_keys: projects must be a string or a list of strings, not dict"),
    ({"projects": ["JJ", 7]}, r"issue_keys: projects\[1\] must be a string, not int"),
    ({"projects": ["JJ", "J J"]}, r"issue_keys: projects\[1\] 'J J' is not a Jira project key"),
    ({"projects": "JJ-12"}, r"issue_keys: projects\[0\] 'JJ-12' is not a Jira project key"),
    ({"ignore_case": "sometimes"}, "issue_keys: ignore_case must be true or false, not 'sometimes'"),
    ({"exclude": "UTF"}, r"issue_keys: exclude\[0\] 'UTF' is not an issue key"),
    ({"exclude": 8}, "issue_keys: exclude must be a string or a list of strings, not int"),
])
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        issue_keys("JJ-1", **kwargs)


def test_option_spellings_that_are_accepted():
    assert issue_keys("jj-1 OPS-2", projects="jj", ignore_case="yes") == ["JJ-1"]
    assert issue_keys("JJ-1", projects=[]) == ["JJ-1"]        # an empty allow-list allows all
    assert issue_keys("UTF-8 JJ-1", exclude=None) == ["UTF-8", "JJ-1"]
    assert issue_keys("JJ-1 JJ-2", exclude="jj-2") == ["JJ-1"]


def test_registered_under_its_name():
    assert FilterModule().filters()["issue_keys"] is issue_keys
