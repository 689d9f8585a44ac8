"""The DevOps payload rules: messages with index and field, coercion, defaults, and agreement with the emulator.

The emulator's ``devops_rules`` is an independent reading of the same published rules; the agreement tests mutate
valid entities one rule at a time and require both validators to refuse every mutation and accept every valid
variant, so a rule missing (or wrong) on either side fails a test.
"""
from __future__ import annotations

import copy

import pytest
from jira_emulator import devops_rules as emu

from ansible_collections.jiraops.integration.plugins.module_utils import _devops
from ansible_collections.jiraops.integration.plugins.module_utils import _devops_schema as schema

NOW = "2024-05-01T12:30:00.000Z"


def build(**kw):
    out = {"pipelineId": "pink-logo", "buildNumber": 7, "updateSequenceNumber": 1, "displayName": "pink-logo #7",
           "url": "https://ci.example.com/job/pink-logo/7", "state": "successful", "lastUpdated": NOW,
           "issueKeys": ["JJ-12"]}
    out.update(kw)
    return out


def deployment(**kw):
    out = {"deploymentSequenceNumber": 3, "updateSequenceNumber": 1, "displayName": "1.4.0 to staging",
           "url": "https://ci.example.com/job/deploy/3", "description": "by Ansible", "lastUpdated": NOW,
           "state": "successful",
           "pipeline": {"id": "deploy", "displayName": "Deploy", "url": "https://ci.example.com/job/deploy"},
           "environment": {"id": "stg", "displayName": "Staging", "type": "staging"},
           "associations": [{"associationType": "issueIdOrKeys", "values": ["JJ-12"]}]}
    out.update(kw)
    return out


def commit(**kw):
    out = {"id": "1b4a0c2e9f", "issueKeys": ["JJ-12"], "updateSequenceId": 1, "message": "JJ-12 pinker",
           "author": {"name": "Alice", "email": "alice@example.com"}, "fileCount": 1,
           "url": "https://git.example.com/c/1b4a0c2e9f", "authorTimestamp": NOW, "displayId": "1b4a0c2"}
    out.update(kw)
    return out


def repository(**kw):
    out = {"id": "pink-logo", "name": "pink-logo", "url": "https://git.example.com/pink-logo", "updateSequenceId": 1,
           "commits": [commit()],
           "branches": [{"id": "feature-JJ-12", "issueKeys": ["JJ-12"], "updateSequenceId": 1,
                         "name": "feature/JJ-12-pink-logo", "lastCommit": commit(),
                         "url": "https://git.example.com/b/feature-JJ-12"}],
           "pullRequests": [{"id": "17", "issueKeys": ["JJ-12"], "updateSequenceId": 1, "status": "OPEN",
                             "title": "JJ-12 pinker", "author": {"name": "Alice"}, "commentCount": 0,
                             "sourceBranch": "feature/JJ-12-pink-logo", "lastUpdate": NOW,
                             "url": "https://git.example.com/pr/17", "displayId": "#17"}]}
    out.update(kw)
    return out


def flag(**kw):
    status = {"enabled": True, "defaultValue": "off", "rollout": {"percentage": 25}}
    out = {"id": "pink-logo", "key": "pink-logo", "updateSequenceId": 1, "issueKeys": ["JJ-12"],
           "summary": {"status": status, "lastUpdated": NOW},
           "details": [{"url": "https://flags.example.com/pink-logo", "lastUpdated": NOW,
                        "environment": {"name": "production", "type": "production"}, "status": status}]}
    out.update(kw)
    return out


def test_message_names_index_field_and_choices():
    builds = [build(buildNumber=i) for i in range(5)]
    builds[3]["state"] = "done"
    errors = _devops.APIS["builds"].validate(builds)
    assert errors == ["builds[3].state: 'done' is not one of pending, in_progress, successful, failed, cancelled, "
                      "unknown"]


def test_every_problem_is_reported_at_once():
    builds = [build(buildNumber=i) for i in range(100)]
    del builds[4]["url"]
    builds[17]["issueKeys"] = ["pink"]
    builds[42]["displayName"] = "x" * 256
    builds[63]["lastUpdated"] = "yesterday"
    builds[99]["references"] = [{}] * 6
    errors = _devops.APIS["builds"].validate(builds)
    assert errors == [
        "builds[4].url: is required",
        "builds[17].issueKeys[0]: 'pink' does not match ^\\w{1,255}-\\d{1,255}$",
        "builds[42].displayName: is 256 characters long, the limit is 255",
        "builds[63].lastUpdated: 'yesterday' is not an RFC 3339 date-time (for example 2024-05-01T12:30:00Z)",
        "builds[99].references: has 6 references, the limit is 5",
    ]


def test_unknown_field_is_a_warning_that_suggests_the_right_name_and_stays_in_the_entity():
    entity = build(issuekeys=["JJ-1"])
    errors = _devops.APIS["builds"].validate([entity])
    assert errors == []
    assert errors.warnings == ["builds[0].issuekeys: unknown field, sent to Jira as given (did you mean issueKeys?)"]
    assert entity["issuekeys"] == ["JJ-1"]


def test_unknown_fields_do_not_hide_real_errors_and_nested_ones_are_warned_too():
    d = deployment(triggeredBy={"name": "alice"}, state="done")
    d["pipeline"]["displayNmae"] = "typo"
    errors = _devops.APIS["deployments"].validate([d])
    assert errors == ["deployments[0].state: 'done' is not one of unknown, pending, in_progress, cancelled, failed, "
                      "rolled_back, successful"]
    assert sorted(errors.warnings) == [
        "deployments[0].pipeline.displayNmae: unknown field, sent to Jira as given (did you mean displayName?)",
        "deployments[0].triggeredBy: unknown field, sent to Jira as given (closest known field: issueKeys)"]


def test_digit_strings_become_integers_and_bools_are_not_integers():
    builds = [build(buildNumber="42"), build(buildNumber=True)]
    errors = _devops.APIS["builds"].validate(builds)
    assert builds[0]["buildNumber"] == 42
    assert errors == ["builds[1].buildNumber: true must be an integer"]


def test_int64_range_and_empty_required_strings():
    errors = _devops.APIS["builds"].validate([build(buildNumber=2 ** 63, pipelineId="")])
    assert "builds[0].buildNumber: 9223372036854775808 does not fit a 64-bit integer" in errors
    assert "builds[0].pipelineId: must not be empty" in errors


def test_duplicate_keys_are_refused():
    errors = _devops.APIS["builds"].validate([build(), build()])
    assert errors == ["builds[1]: same key as builds[0] (pink-logo, 7); send each entity once"]


def test_defaults_fill_only_what_is_missing():
    builds = [{"pipelineId": "p", "buildNumber": 1},
              {"pipelineId": "p", "buildNumber": 2, "updateSequenceNumber": 5, "lastUpdated": NOW}]
    _devops.APIS["builds"].apply_defaults(builds, seq=1714566600123)
    assert builds[0]["updateSequenceNumber"] == 1714566600123
    assert builds[0]["lastUpdated"] == "2024-05-01T12:30:00.123Z"
    assert builds[0]["schemaVersion"] == "1.0"
    assert builds[1]["updateSequenceNumber"] == 5 and builds[1]["lastUpdated"] == NOW


def test_defaults_reach_nested_devinfo_and_flag_entities():
    repo = repository()
    for item in [repo, repo["commits"][0], repo["branches"][0], repo["branches"][0]["lastCommit"],
                 repo["pullRequests"][0]]:
        del item["updateSequenceId"]
    _devops.APIS["repositories"].apply_defaults([repo], seq=99)
    assert repo["updateSequenceId"] == repo["commits"][0]["updateSequenceId"] == 99
    assert repo["branches"][0]["lastCommit"]["updateSequenceId"] == 99
    f = flag()
    del f["summary"]["lastUpdated"], f["details"][0]["lastUpdated"], f["updateSequenceId"]
    _devops.APIS["flags"].apply_defaults([f], seq=1714566600000)
    assert f["summary"]["lastUpdated"] == f["details"][0]["lastUpdated"] == "2024-05-01T12:30:00.000Z"
    assert _devops.APIS["flags"].validate([f]) == []


def test_deployment_needs_associations_or_issue_keys_and_caps_values():
    d = deployment()
    del d["associations"]
    assert _devops.APIS["deployments"].validate([d]) == [
        "deployments[0]: give associations (preferred) or issueKeys; one of them is required"]
    d = deployment(associations=[{"associationType": "issueIdOrKeys", "values": [f"JJ-{i}" for i in range(1, 301)]},
                                 {"associationType": "serviceIdOrKeys", "values": [f"s{i}" for i in range(201)]}])
    assert _devops.APIS["deployments"].validate([d]) == [
        "deployments[0].associations: has 501 values in total, the limit is 500"]
    d = deployment(associations=[{"associationType": "serviceIdOrKeys", "values": [""]}])
    assert _devops.APIS["deployments"].validate([d]) == ["deployments[0].associations[0].values[0]: must not be empty"]


def test_devinfo_message_is_truncated_like_jira_and_ids_are_checked():
    repo = repository()
    repo["commits"][0]["message"] = "m" * 2000
    repo["commits"].append(commit(id="bad id/with slash"))
    repo["commits"].append(commit())
    errors = _devops.APIS["repositories"].validate([repo])
    assert len(repo["commits"][0]["message"]) == 1024
    assert errors == [
        "repositories[0].commits[1].id: 'bad id/with slash' does not match letters, digits and ~ . - _ only",
        "repositories[0].commits[2].id: '1b4a0c2e9f' is listed more than once in this repository",
    ]


def test_devinfo_issue_keys_allow_any_script_letters():
    repo = repository(commits=[commit(issueKeys=["ÄB-1"])], branches=[], pullRequests=[])
    assert _devops.APIS["repositories"].validate([repo]) == []
    repo = repository(commits=[commit(issueKeys=["A-1"])], branches=[], pullRequests=[])
    assert _devops.APIS["repositories"].validate([repo]) == [
        "repositories[0].commits[0].issueKeys[0]: 'A-1' does not match an issue key such as JJ-12"]


def test_properties_rules():
    errors = schema.validate_request({"_a": "1", "b:c": "2", "d": 3, "e": "4", "f": "5", "g": "6"}, {"product": 1})
    assert "properties: has 6 entries, the limit is 5" in errors
    assert "properties._a: keys must not start with '_'" in errors
    assert "properties.b:c: keys must not contain ':'" in errors
    assert "provider_metadata.product: 1 must be a string" in errors
    assert not any(e.startswith("properties.d") for e in errors)  # numbers are sent as strings


def test_keys_only_validation_for_deletion():
    assert _devops.APIS["builds"].validate([{"pipelineId": "p", "buildNumber": "3"}], keys_only=True) == []
    deployments = _devops.APIS["deployments"]
    assert deployments.validate([{"deploymentSequenceNumber": 1, "pipeline": {"id": "p"}}],
                                keys_only=True) == ["deployments[0].environment: is required"]


# -- agreement with the emulator's independent validator ---------------------------------------------------------------
def _emu_devinfo(repo):
    out = emu.check_repository(repo)
    for kind, check in emu.ENTITY_CHECKS.items():
        for entity in repo.get(kind) or []:
            out.extend(check(entity))
    return out


EMULATOR = {"builds": emu.check_build, "deployments": emu.check_deployment, "repositories": _emu_devinfo,
            "flags": emu.check_flag}
VALID = {"builds": build, "deployments": deployment, "repositories": repository, "flags": flag}


def _set(entity, path, value):
    target = entity
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DELETE = object()
# (kind, path, bad value): each breaks exactly one published rule.
MUTATIONS = [
    ("builds", ("pipelineId",), _DELETE), ("builds", ("pipelineId",), "p" * 256), ("builds", ("buildNumber",), "x"),
    ("builds", ("buildNumber",), 2 ** 63), ("builds", ("updateSequenceNumber",), _DELETE),
    ("builds", ("displayName",), _DELETE), ("builds", ("url",), "not a url"), ("builds", ("url",), _DELETE),
    ("builds", ("state",), "done"), ("builds", ("lastUpdated",), "2024-13-01T00:00:00Z"),
    ("builds", ("issueKeys",), []), ("builds", ("issueKeys",), [f"JJ-{i}" for i in range(1, 102)]),
    ("builds", ("issueKeys",), ["JJ 12"]), ("builds", ("description",), "d" * 256), ("builds", ("label",), "l" * 256),
    ("builds", ("schemaVersion",), "2.0"), ("builds", ("testInfo",), {"totalNumber": 1, "numberPassed": 1}),
    ("builds", ("references",), []), ("builds", ("references",), [{"commit": {"id": "abc"}}]),
    ("builds", ("references",), [{"ref": {"name": "main", "uri": "u" * 2001}}]),
    ("deployments", ("deploymentSequenceNumber",), _DELETE), ("deployments", ("description",), _DELETE),
    ("deployments", ("state",), "deployed"), ("deployments", ("environment", "type"), "prod"),
    ("deployments", ("environment", "id"), _DELETE), ("deployments", ("pipeline", "url"), _DELETE),
    ("deployments", ("pipeline",), _DELETE), ("deployments", ("associations",), []),
    ("deployments", ("associations",), [{"associationType": "issueIdOrKeys", "values": []}]),
    ("deployments", ("associations",), [{"associationType": "tickets", "values": ["JJ-1"]}]),
    ("deployments", ("associations",), [{"associationType": "issueIdOrKeys", "values": ["JJ_1"]}]),
    ("deployments", ("associations",), [{"associationType": "commit",
                                         "values": [{"commitHash": "abc", "repositoryId": "r"}]}]),
    ("deployments", ("associations",), [{"associationType": "issueIdOrKeys", "values": ["JJ-1"]}] * 4),
    ("deployments", ("duration",), "long"), ("deployments", ("commands",), [{}]),
    ("repositories", ("id",), "pink logo"), ("repositories", ("name",), _DELETE), ("repositories", ("url",), "x"),
    ("repositories", ("updateSequenceId",), _DELETE), ("repositories", ("description",), "d" * 1025),
    ("repositories", ("commits", 0, "issueKeys"), []), ("repositories", ("commits", 0, "issueKeys"), ["J-1"]),
    ("repositories", ("commits", 0, "author"), _DELETE), ("repositories", ("commits", 0, "fileCount"), -1),
    ("repositories", ("commits", 0, "flags"), ["SQUASH"]),
    ("repositories", ("commits", 0, "files"), [{"path": "a", "url": "https://x/a", "changeType": "ADDED",
                                                "linesAdded": 1}]),
    ("repositories", ("commits", 0, "authorTimestamp"), "May 1st"),
    ("repositories", ("branches", 0, "lastCommit"), _DELETE), ("repositories", ("branches", 0, "name"), "b" * 513),
    ("repositories", ("pullRequests", 0, "status"), "CLOSED"),
    ("repositories", ("pullRequests", 0, "commentCount"), 2 ** 31),
    ("repositories", ("pullRequests", 0, "reviewers"), [{"approvalStatus": "NEEDS_WORK"}]),
    ("flags", ("id",), _DELETE), ("flags", ("key",), "k" * 256), ("flags", ("issueKeys",), _DELETE),
    ("flags", ("summary", "status", "enabled"), "yes"), ("flags", ("summary", "lastUpdated"), _DELETE),
    ("flags", ("summary", "status", "rollout", "percentage"), 101), ("flags", ("details",), []),
    ("flags", ("details", 0, "environment", "type"), "prod"), ("flags", ("details", 0, "url"), _DELETE),
]


@pytest.mark.parametrize("kind,path,value", MUTATIONS, ids=[f"{k}:{'.'.join(map(str, p))}" for k, p, _v in MUTATIONS])
def test_both_validators_refuse_each_broken_rule(kind, path, value):
    entity = VALID[kind]()
    assert _devops.APIS[kind].validate([copy.deepcopy(entity)]) == [] and EMULATOR[kind](copy.deepcopy(entity)) == []
    _set(entity, path, value)
    module_errors = _devops.APIS[kind].validate([copy.deepcopy(entity)])
    emulator_errors = EMULATOR[kind](copy.deepcopy(entity))
    assert module_errors, f"the collection accepted {path}={value!r}"
    assert emulator_errors, f"the emulator accepted {path}={value!r}"


VALID_VARIANTS = [
    ("builds", ("issueKeys",), ["JJ-12", "OPS_2-7", "A-1"]),
    ("builds", ("lastUpdated",), "2024-05-01T12:30:00+02:00"),
    ("builds", ("references",), [{"commit": {"id": "abc", "repositoryUri": "https://git/x"},
                                  "ref": {"name": "main", "uri": "https://git/x/main"}}]),
    ("builds", ("testInfo",), {"totalNumber": 3, "numberPassed": 2, "numberFailed": 1, "numberSkipped": 0}),
    ("deployments", ("associations",), [{"associationType": "issueIdOrKeys", "values": ["JJ-12", "10042"]},
                                        {"associationType": "serviceIdOrKeys", "values": ["svc-1"]},
                                        {"associationType": "repository", "values": [{"repositoryId": "r"}]}]),
    ("deployments", ("issueKeys",), ["JJ-12"]),
    ("deployments", ("commands",), [{"command": "initiate_deployment_gating"}]),
    ("repositories", ("commits", 0, "flags"), ["MERGE_COMMIT"]),
    ("repositories", ("commits", 0, "message"), "m" * 1024),
    ("flags", ("summary", "status", "rollout"), {"text": "beta testers"}),
]


@pytest.mark.parametrize("kind,path,value", VALID_VARIANTS,
                         ids=[f"{k}:{'.'.join(map(str, p))}" for k, p, _v in VALID_VARIANTS])
def test_both_validators_accept_valid_variants(kind, path, value):
    entity = VALID[kind]()
    _set(entity, path, value)
    if kind == "deployments" and path == ("issueKeys",):
        del entity["associations"]
    assert _devops.APIS[kind].validate([copy.deepcopy(entity)]) == []
    assert EMULATOR[kind](copy.deepcopy(entity)) == []


def test_validation_of_ten_thousand_builds_is_fast():
    import time
    builds = [build(buildNumber=i) for i in range(10000)]
    started = time.perf_counter()
    assert _devops.APIS["builds"].validate(builds) == []
    assert time.perf_counter() - started < 2.0
