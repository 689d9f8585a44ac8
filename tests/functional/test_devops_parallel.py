"""parallel_requests: the DevOps modules send their bulk batches over several connections, for real over HTTP.

The emulator counts the submissions it is handling at once (``/_emulator/devops/concurrency``), so parallelism is
proven from the server's side; a 50 ms delay fault on every bulk request stands in for Atlassian Cloud's latency.
"""
from __future__ import annotations

import json
import time

import pytest
from devops_support import BULK, CLOUD_ID, TOKEN, args, builds
from oauth2_support import CC, token_requests

SCOPES = [f"{verb}:{name}:jira-software" for verb in ("read", "write") for name in ("build", "source-code")]
BULK_GLOB = "/jira/builds/0.1/cloud/*/bulk"
LATENCY = 0.05


def prepare(emulator, latency=LATENCY):
    """A clean emulator with the CI token and ``latency`` seconds added to every bulk submission."""
    emulator.control("POST", "/reset")
    emulator.seed(bearer_tokens={TOKEN: {"user": "alice", "scopes": SCOPES, "expires_at": None, "client_id": "ci"}})
    if latency:
        emulator.fault(BULK_GLOB, method="POST", kind="delay", delay=latency, times=-1)
    return emulator


@pytest.fixture
def emu(emulator):
    return prepare(emulator)


def keys(numbers):
    return [{"pipelineId": "pink-logo", "buildNumber": n} for n in numbers]


def concurrency(emu):
    return emu.control("GET", "/devops/concurrency")


def stored_numbers(emu):
    return sorted(i["data"]["buildNumber"] for i in emu.control("GET", "/devops/builds")["builds"])


def posts(emu, path=BULK):
    """Bulk submissions as the emulator saw them, in arrival order, with their build numbers and reply times."""
    out = []
    for r in emu.requests(path, method="POST"):
        numbers = [b["buildNumber"] for b in json.loads(r["body"])["builds"]]
        out.append(dict(r, numbers=numbers, answered=r["time"] + (r.get("elapsed") or 0)))
    return out


def timed(run_module, module, module_args):
    started = time.monotonic()
    res = run_module(module, module_args)
    return res, time.monotonic() - started


def span(emu):
    """Seconds from the first bulk submission's arrival to the last one's reply, as the emulator saw them."""
    sent = posts(emu)
    return max(p["answered"] for p in sent) - min(p["time"] for p in sent)


def test_1000_builds_go_out_4_at_a_time_in_input_order_and_faster(emu, run_module):
    warm = run_module("build_info", args(emu, builds=builds(10, start=5000)))  # imports and connections
    assert not warm.failed, warm["msg"]

    prepare(emu)
    seq, seq_time = timed(run_module, "build_info", args(emu, builds=builds(1000), parallel_requests=1))
    assert not seq.failed, seq["msg"]
    assert concurrency(emu)["max_in_flight"] == 1 and stored_numbers(emu) == list(range(1000))
    seq_span = span(emu)

    prepare(emu)
    par, par_time = timed(run_module, "build_info", args(emu, builds=builds(1000)))  # the default: 4
    assert not par.failed, par["msg"]
    assert concurrency(emu)["max_in_flight"] == 4 and concurrency(emu)["bulk_requests"] == 10
    assert stored_numbers(emu) == list(range(1000))
    assert par["accepted"] == keys(range(1000)) and par["requests"] == 10 and par["changed"] is True
    for key in ("accepted", "rejected", "unknown_issue_keys", "requests", "changed", "msg"):
        assert par[key] == seq[key], key
    par_span = span(emu)
    # 10 submissions of >= 50 ms one after another, against 1 alone and then 9 over 4 connections (4 rounds). The
    # whole task also validates and encodes 1,000 builds, which takes as long either way.
    assert par_span < 0.6 * seq_span, f"submissions took {par_span:.2f}s in parallel, {seq_span:.2f}s one by one"
    assert par_time < 0.8 * seq_time, f"the task took {par_time:.2f}s in parallel, {seq_time:.2f}s one by one"


def test_replies_are_merged_in_input_order_whatever_order_they_arrive_in(emu, run_module):
    # The second submission to arrive is slow, so batches sent after it are answered before it.
    prepare(emu, latency=0)
    emu.fault(BULK_GLOB, method="POST", kind="delay", delay=0.4, skip=1, times=1)
    emu.fault(BULK_GLOB, method="POST", kind="delay", delay=LATENCY, times=-1)
    batch = builds(1000)
    batch[150]["issueKeys"] = ["NOPE-1"]            # rejected
    batch[420]["issueKeys"] = ["JJ-12", "NOPE-2"]   # accepted with an unknown key
    batch[950]["issueKeys"] = ["NOPE-3", "JJ-12"]
    res = run_module("build_info", args(emu, builds=batch, fail_on_rejected=False))
    assert not res.failed, res["msg"]
    sent = posts(emu)
    slow = sent[1]
    assert slow["elapsed"] >= 0.4
    assert any(p["answered"] < slow["answered"] and p["numbers"][0] > slow["numbers"][0] for p in sent), \
        "a later batch must have been answered before the slow one"
    assert res["accepted"] == keys(n for n in range(1000) if n != 150)
    assert [r["key"] for r in res["rejected"]] == keys([150])
    assert res["unknown_issue_keys"] == ["NOPE-1", "NOPE-2", "NOPE-3"]


def test_429_with_retry_after_pauses_every_connection_and_nothing_is_lost_or_sent_twice(emu, run_module):
    # Ahead of the delay fault: the 3rd and 4th submissions (sent together with others) get 429 + Retry-After: 1.
    prepare(emu, latency=0)
    emu.fault(BULK_GLOB, method="POST", status=429, retry_after=1, skip=2, times=2)
    emu.fault(BULK_GLOB, method="POST", kind="delay", delay=LATENCY, times=-1)
    res, elapsed = timed(run_module, "build_info", args(emu, builds=builds(1000)))
    assert not res.failed, res["msg"]
    sent = posts(emu)
    assert [p["status"] for p in sent].count(429) == 2
    accepted = [n for p in sent if p["status"] == 202 for n in p["numbers"]]
    assert sorted(accepted) == list(range(1000)), "every build accepted in exactly one request"
    assert stored_numbers(emu) == list(range(1000))
    assert res["accepted"] == keys(range(1000)) and res["requests"] == 12
    first_429 = min(p["answered"] for p in sent if p["status"] == 429)
    assert any(p["time"] < first_429 < p["answered"] for p in sent if p["status"] == 202), \
        "the 429 must come while another batch is in flight"
    # Nothing new reaches Jira until Retry-After has passed (a request already on its way may still arrive).
    during = [p for p in sent if first_429 + 0.03 < p["time"] < first_429 + 0.95]
    assert during == [], [(p["seq"], round(p["time"] - first_429, 3)) for p in during]
    assert elapsed >= 1.0


def test_413_while_other_batches_are_in_flight_is_split_and_everything_stored_once(emu, run_module):
    prepare(emu, latency=0)
    emu.fault(BULK_GLOB, method="POST", status=413, skip=3, times=1)
    emu.fault(BULK_GLOB, method="POST", kind="delay", delay=LATENCY, times=-1)
    res = run_module("build_info", args(emu, builds=builds(1000)))
    assert not res.failed, res["msg"]
    sent = posts(emu)
    too_large = [p for p in sent if p["status"] == 413]
    assert len(too_large) == 1 and len(too_large[0]["numbers"]) == 100
    assert any(p["time"] < too_large[0]["time"] < p["answered"] for p in sent if p is not too_large[0]), \
        "the 413 must come while another batch is in flight"
    accepted = [n for p in sent if p["status"] == 202 for n in p["numbers"]]
    assert sorted(accepted) == list(range(1000)), "every build accepted in exactly one request"
    # The batch that was too large goes again as two halves, and the 5 batches not sent yet go at that size too;
    # the 4 others of 100 had been sent before the 413.
    assert sorted(len(p["numbers"]) for p in sent if p["status"] == 202) == [50] * 12 + [100] * 4
    assert stored_numbers(emu) == list(range(1000))
    assert res["accepted"] == keys(range(1000)) and res["rejected"] == []


@pytest.mark.parametrize("status, message", [
    (401, "returned HTTP 401: authentication failed: check the credentials"),
    (403, "returned HTTP 403: permission denied: the credentials are valid but lack the permission"),
])
def test_401_or_403_mid_way_stops_new_batches_and_reports_what_was_accepted(emu, run_module, status, message):
    prepare(emu, latency=0)
    emu.fault(BULK_GLOB, method="POST", status=status, skip=4, times=1)
    emu.fault(BULK_GLOB, method="POST", kind="delay", delay=LATENCY, times=-1)
    res = run_module("build_info", args(emu, builds=builds(1000)))
    assert res.failed and message in res["msg"] and res["status"] == status
    sent = posts(emu)
    failed = [p for p in sent if p["status"] == status]
    assert failed == [sent[4]]
    # Those already sent finish; none is started once the failure is known (the 3 others were in flight).
    assert len(sent) <= 8
    late = [p for p in sent if p["time"] > failed[0]["answered"] + 0.03]
    assert late == [], [(p["seq"], round(p["time"] - failed[0]["answered"], 3)) for p in late]
    accepted = sorted(n for p in sent if p["status"] == 202 for n in p["numbers"])
    assert len(accepted) >= 400
    assert res["accepted"] == keys(accepted), "the partial result lists what Jira accepted, in input order"
    assert res["changed"] is True and res["requests"] == len(sent)
    assert stored_numbers(emu) == accepted


def test_a_key_given_twice_is_refused_before_anything_is_sent(emu, run_module):
    """Why the order in which parallel requests reach Jira never decides which of two entries wins."""
    batch = builds(500)
    batch.append(dict(batch[7], state="failed"))
    res = run_module("build_info", args(emu, builds=batch))
    assert res.failed and "builds[500]: same key as builds[7] (pink-logo, 7)" in res["msg"]
    assert emu.requests() == []


def test_submit_sends_parallel_requests_in_input_order(emu):
    """``submit`` alone (no module): 500 builds go 4 at a time and the accepted keys come back in input order."""
    from ansible_collections.jiraops.integration.plugins.module_utils import _devops  # pylint: disable=import-outside-toplevel
    from ansible_collections.jiraops.integration.plugins.module_utils._options import build_client  # pylint: disable=import-outside-toplevel

    api = _devops.APIS["builds"]
    client = build_client({"api_url": emu.url, "token": TOKEN, "timeout": 10, "retry_budget": 20})
    base = api.base_url(client, "cloud", CLOUD_ID)
    unique = builds(500)
    api.apply_defaults(unique)
    outcome = _devops.Outcome()
    _devops.submit(client, api, base, unique, {}, outcome, parallel=4)
    assert concurrency(emu)["max_in_flight"] == 4 and outcome.accepted == keys(range(500))


def test_devinfo_batches_of_one_repository_go_in_parallel_and_merge_in_order(emu, run_module):
    def repository():
        return [{"id": "pink", "name": "pink", "url": "https://git.example.com/pink", "commits": [
            {"id": f"c{i:05d}", "issueKeys": ["JJ-12"], "message": f"JJ-12 change {i}", "author": {"name": "Alice"},
             "fileCount": 1, "url": f"https://git.example.com/c/{i}", "authorTimestamp": "2024-05-01T12:30:00Z",
             "displayId": f"c{i}"} for i in range(2000)]}]

    devinfo_glob = "/jira/devinfo/0.1/cloud/*/bulk"
    emu.fault(devinfo_glob, method="POST", kind="delay", delay=LATENCY, times=-1)
    par = run_module("devinfo", args(emu, repositories=repository()))
    assert not par.failed, par["msg"]
    assert concurrency(emu)["max_in_flight"] == 4 and par["requests"] == 5
    prepare(emu)
    seq = run_module("devinfo", args(emu, repositories=repository(), parallel_requests=1))
    assert concurrency(emu)["max_in_flight"] == 1
    assert par["accepted"] == seq["accepted"]
    assert par["accepted"][0]["commits"] == [f"c{i:05d}" for i in range(2000)]


def test_client_credentials_fetch_one_token_for_all_connections(emu, run_module):
    res = run_module("build_info", {"api_url": emu.url, "auth_url": emu.url, "cloud_id": CLOUD_ID,
                                    "retry_budget": 20, "builds": builds(1000), **CC})
    assert not res.failed, res["msg"]
    assert concurrency(emu)["max_in_flight"] == 4
    assert token_requests(emu, client_id=CC["client_id"])["count"] == 1
    raw = emu.control("GET", "/requests", params={"path": BULK, "raw": "1"})["requests"]
    assert len(raw) == 10 and len({r["headers"]["Authorization"] for r in raw}) == 1
    assert stored_numbers(emu) == list(range(1000))


@pytest.mark.parametrize("value", [0, -2])
def test_parallel_requests_below_1_is_refused_before_anything_is_sent(emu, run_module, value):
    res = run_module("build_info", args(emu, builds=builds(3), parallel_requests=value))
    assert res.failed and res["option"] == "parallel_requests"
    assert res["msg"] == f"parallel_requests: must be 1 or more (1 sends one request at a time), got {value}"
    assert emu.requests() == [] and concurrency(emu)["bulk_requests"] == 0
