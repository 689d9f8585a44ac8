"""ci_facts, ci_state, environment_type and junit_test_info on the cases the roles rely on."""
from __future__ import annotations

import base64

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.jiraops.integration.plugins.filter.ci_facts import (
    ci_facts, ci_state, ci_variables)
from ansible_collections.jiraops.integration.plugins.filter.environment_type import environment_type
from ansible_collections.jiraops.integration.plugins.filter.junit_test_info import junit_test_info


@pytest.mark.parametrize("word,state", [
    ("SUCCESS", "successful"), ("success", "successful"), ("Succeeded", "successful"),
    ("SucceededWithIssues", "successful"), ("UNSTABLE", "failed"), ("FAILURE", "failed"), ("failure", "failed"),
    ("Failed", "failed"), ("ABORTED", "cancelled"), ("Canceled", "cancelled"), ("cancelled", "cancelled"),
    ("NOT_BUILT", "unknown"), ("in_progress", "in_progress"), ("rolled_back", "rolled_back"), ("", ""),
    ("done", "done"),  # left for the role to reject, naming the value
])
def test_ci_state(word, state):
    assert ci_state(word) == state


def test_detection_order_and_forcing():
    # Azure's BUILD_* names are not Jenkins' BUILD_NUMBER/BUILD_URL; a GitHub runner with JOB_NAME set is GitHub.
    assert ci_facts({"BUILD_BUILDID": "5", "TF_BUILD": "True"})["system"] == "azure_pipelines"
    assert ci_facts({"GITHUB_RUN_ID": "1", "JOB_NAME": "x"})["system"] == "github_actions"
    assert ci_facts({"JOB_NAME": "x", "BUILD_NUMBER": "3"})["system"] == "jenkins"
    assert ci_facts({"awx_job_id": 4})["build_number"] == "4"
    assert ci_facts({"JOB_NAME": "x", "JIRA_CI_SYSTEM": "none"})["system"] == ""
    assert ci_facts({"GITHUB_RUN_ID": "1", "JIRA_CI_SYSTEM": "jenkins", "JOB_NAME": "j"})["pipeline_id"] == "j"
    assert ci_facts({}) == dict.fromkeys(ci_facts({}), "")
    with pytest.raises(AnsibleFilterError, match="JIRA_CI_SYSTEM='travis' is not one of none, github_actions"):
        ci_facts({"JIRA_CI_SYSTEM": "travis"})


def test_new_branch_before_sha_is_no_ref_and_jenkins_remote_branch():
    assert ci_facts({"GITLAB_CI": "true", "CI_COMMIT_BEFORE_SHA": "0" * 40})["since"] == ""
    assert ci_facts({"GITHUB_RUN_ID": "1"}, github_event='{"before": "' + "0" * 40 + '"}')["since"] == ""
    assert ci_facts({"JENKINS_URL": "j", "GIT_BRANCH": "origin/feature/JJ-1-x"})["branch"] == "feature/JJ-1-x"
    assert ci_facts({"JENKINS_URL": "j", "GIT_URL": "https://bob:s3cret@git.example.com/x.git"})["repository_url"] \
        == "https://git.example.com/x.git"
    with pytest.raises(AnsibleFilterError, match="GITHUB_EVENT_PATH"):
        ci_facts({"GITHUB_RUN_ID": "1"}, github_event="{not json")


def test_ci_variables():
    names = ci_variables()
    assert "GITHUB_EVENT_PATH" in names["env"] and "AGENT_JOBSTATUS" in names["env"] and "awx_job_id" in names["vars"]
    assert ci_variables("circleci")["vars"] == [] and "CIRCLE_SHA1" in ci_variables("circleci")["env"]
    with pytest.raises(AnsibleFilterError, match="unknown CI system travis"):
        ci_variables("travis")


@pytest.mark.parametrize("name,kind", [
    ("production", "production"), ("prod", "production"), ("eu-prod-2", "production"), ("PRD", "production"),
    ("live", "production"), ("staging", "staging"), ("stg-eu", "staging"), ("preprod", "staging"),
    ("pre-prod", "staging"), ("UAT1", "staging"), ("test", "testing"), ("qa-3", "testing"),
    ("integration-test", "testing"), ("dev", "development"), ("development", "development"),
    ("review/feature-x", "unmapped"), ("product-demo", "unmapped"), ("sandbox", "unmapped"),
    ("devops-tools", "unmapped"), ("prod2", "production"), ("latest", "unmapped"), ("develop", "development"),
])
def test_environment_type_defaults(name, kind):
    assert environment_type(name) == kind


def test_environment_type_patterns_come_first_and_are_checked():
    assert environment_type("sandbox", patterns={"testing": ["^sand"]}) == "testing"
    assert environment_type("prod-mirror", patterns={"testing": "mirror"}) == "testing"
    assert environment_type("prod", defaults=False) == "unmapped"
    with pytest.raises(AnsibleFilterError, match="patterns key 'prd' is not one of development"):
        environment_type("x", patterns={"prd": ["x"]})
    with pytest.raises(AnsibleFilterError, match=r"patterns\[testing\]\[0\] '\(' is not a regular expression"):
        environment_type("x", patterns={"testing": ["("]})


REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="a" tests="4">
  <testcase name="ok"/><testcase name="ok2"><system-out>x</system-out></testcase>
  <testcase name="bad"><failure message="no"/></testcase><testcase name="later"><skipped/></testcase>
</testsuite><testsuite name="b"><testcase name="boom"><error/></testcase></testsuite></testsuites>"""


def test_junit_counts_testcases_over_reports_and_slurp_results():
    slurped = {"source": "/w/TEST-b.xml", "encoding": "base64",
               "content": base64.b64encode(b"<testsuite><testcase name='x'/></testsuite>").decode()}
    assert junit_test_info([REPORT, slurped]) == {"totalNumber": 6, "numberPassed": 3, "numberFailed": 2,
                                                  "numberSkipped": 1}


@pytest.mark.parametrize("doc", [
    '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite>&x;</testsuite>',
    '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><testsuite name="&b;"/>',
    '<!doctype testsuite SYSTEM "http://example.com/junit.dtd"><testsuite/>',
])
def test_junit_refuses_doctype_and_entities(doc):
    with pytest.raises(AnsibleFilterError, match="report 0: has a DOCTYPE or ENTITY declaration"):
        junit_test_info([doc])


def test_junit_names_the_bad_file():
    with pytest.raises(AnsibleFilterError, match=r"/w/x.xml: not well-formed XML"):
        junit_test_info([{"source": "/w/x.xml", "content": "<testsuite>"}])
    with pytest.raises(AnsibleFilterError, match=r"report 0: not a JUnit report \(root element <html>\)"):
        junit_test_info(["<html/>"])


LOG = ("a" * 40 + "\x1f1700000000\x1ftag: v1.0\x1fJJ-2 first\n\x1e\n"
       + "b" * 40 + "\x1f1700000100\x1f\x1fno key here\n\x1e\n"
       + "c" * 40 + "\x1f1700000200\x1fHEAD -> main, tag: v1.1\x1fJJ-3 second\n\x1e\n")


def test_backfill_entities_tags_commits_and_export():
    from ansible_collections.jiraops.integration.plugins.filter.backfill_entities import backfill_entities
    tags = backfill_entities(LOG, mode="tags", pipeline_id="p", url="https://ci/{number}/{tag}")
    assert [(b["buildNumber"], b["label"], b["issueKeys"], b["updateSequenceNumber"], b["url"]) for b in tags] == [
        (1, "v1.0", ["JJ-2"], 1700000000000, "https://ci/1/v1.0"),
        (2, "v1.1", ["JJ-3"], 1700000200000, "https://ci/2/v1.1")]
    commits = backfill_entities(LOG, pipeline_id="p", url="u", export=f"commit,number\n{'c' * 8},9\n")
    assert [b["buildNumber"] for b in commits] == [1, 9]  # the keyless commit is not sent, but counts
    from_json = backfill_entities(LOG, pipeline_id="p", url="u", kind="deployments", environment="qa-1", export=(
        '{"builds": [{"commit": "' + "a" * 40 + '", "number": 5, "state": "FAILURE", "url": "https://ci/5"}]}'))
    assert [(d["deploymentSequenceNumber"], d["state"], d["url"], d["environment"]["type"]) for d in from_json] == [
        (5, "failed", "https://ci/5", "testing"), (3, "successful", "u", "testing")]
    with pytest.raises(AnsibleFilterError, match="export row 1: number 'x' is not digits"):
        backfill_entities(LOG, pipeline_id="p", url="u", export="commit,number\nabc,x\n")
    with pytest.raises(AnsibleFilterError, match="export row 1 has no commit column"):
        backfill_entities(LOG, pipeline_id="p", url="u", export='[{"number": 1}]')
    with pytest.raises(AnsibleFilterError, match="not git log output"):
        backfill_entities("garbage", pipeline_id="p", url="u")
