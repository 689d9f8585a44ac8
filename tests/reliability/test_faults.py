"""Faults injected through the emulator's control API into every module call that talks to Jira.

For each FaultTarget (cases_*.py) x each Fault below: retries made, time spent, and, for writes, that every item the
module reported as done is stored exactly once and nothing is stored twice (the emulator's state is compared with
what was sent).

The module runs in-process, so every wait the client takes (Retry-After, X-RateLimit-Reset, backoff, a pause
another thread asked for) is taken on the test clock (``fake_clock``): the wait is counted as time spent, the budget
is spent on it, but nobody sleeps. That the real clock really sleeps is test_client's
``test_retry_after_is_honoured_over_real_http`` (and the playbook targets', which cannot have a test clock).
"""
from __future__ import annotations

import fnmatch
import os
import time
import uuid
from dataclasses import dataclass, field

import pytest
import yaml

from reliability_support import REPO, REPORT, Ctx, has_traceback, load_cases, missing_requirements


@dataclass
class Fault:
    id: str
    spec: dict  # POST /_emulator/faults body, without "path"
    # expected outcome per item: "ok" or "fail"; None in the tuple means "as idempotent_ok / write_ok say"
    expect: tuple
    match: str = ""  # failing items' message must contain this
    args: dict = field(default_factory=dict)  # extra module args (short timeouts/budgets)
    min_retries: int = 0
    min_elapsed: float = 0.0
    max_elapsed: float = 0.0  # 0: no upper bound
    idempotent_ok: bool = True  # outcome for reads/idempotent calls when expect is None
    write_ok: bool = True  # outcome for non-idempotent calls when expect is None
    write_match: str = ""


UNSURE = "may have processed"

FAULTS = [
    Fault("429 + Retry-After: 1", {"status": 429, "retry_after": 1, "times": 1}, ("ok",), min_retries=1,
          min_elapsed=1.0),
    Fault("500 once", {"status": 500, "times": 1}, ("fail",), match="returned HTTP 500"),
    Fault("502 once", {"status": 502, "times": 1}, ("ok",), min_retries=1),
    Fault("503 twice", {"status": 503, "times": 2}, ("ok",), min_retries=2),
    Fault("slow reply past the timeout", {"kind": "delay", "delay": 0.7, "times": 1}, (None,),
          args={"timeout": 0.4}, match="timed out", write_ok=False, write_match=UNSURE),
    Fault("dropped connection", {"kind": "drop", "times": 1}, (None,), match="connection failed", write_ok=False,
          write_match=UNSURE),
    Fault("401 in the middle of a batch of 3", {"status": 401, "skip": 1, "times": 1}, ("ok", "fail", "ok"),
          match="authentication failed"),
    Fault("429 for ever (budget 2 s)", {"status": 429, "retry_after": 1, "times": -1}, ("fail",),
          args={"retry_budget": 2.0}, match="gave up", min_retries=1, min_elapsed=1.0),
    # Jira Cloud's rate limits: X-RateLimit-Reset is the floor without Retry-After; an hourly quota fails at once.
    Fault("429 + X-RateLimit-Reset 1 s ahead",
          {"status": 429, "reset_in": 1, "times": 1, "headers": {"RateLimit-Reason": "jira-burst-based"}},
          ("ok",), min_retries=1, min_elapsed=0.9),
    Fault("429 quota, reset in 1 h", {"status": 429, "reset_in": 3600, "times": -1,
                                      "headers": {"RateLimit-Reason": "jira-quota-tenant-based"}},
          ("fail",), args={"retry_budget": 120}, match="RateLimit-Reason: jira-quota-tenant-based", max_elapsed=1.0),
]

TARGETS = load_cases("FAULT_TARGETS")
CASES = [(t, f) for t in TARGETS for f in FAULTS]


def _settle(emulator, path, timeout=5.0):
    """Wait until the emulator finished every request it received (a delayed one completes after the client left)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with emulator.state.lock:
            busy = [r for r in emulator.state.requests if r["status"] is None and not r.get("fault") == "drop"]
        if not busy:
            return
        time.sleep(0.05)


def _retries(target, outcomes, attempts):
    """The module's own ``retries`` figure, else what the emulator saw beyond one attempt per logical request."""
    if any("retries" in o.result for o in outcomes):
        return sum(o.result.get("retries") or 0 for o in outcomes)
    logical = len(outcomes)
    if target.batch:  # one run: the requests up to the first that failed, and any sent with it in parallel
        got = [o.ok for o in outcomes]
        if False in got:
            last_ok = max((index for index, ok in enumerate(got) if ok), default=-1)
            logical = max(got.index(False), last_ok) + 1
    return max(0, attempts - logical)


def test_every_jira_module_has_a_fault_target():
    """Every module in action_groups.jira (they talk to Jira) has a FaultTarget; the report lists any that lacks one."""
    with open(os.path.join(REPO, "meta", "runtime.yml"), encoding="utf-8") as handle:
        jira_modules = set(yaml.safe_load(handle)["action_groups"]["jira"])
    covered = {t.module for t in TARGETS}
    assert "api" in covered
    REPORT.uncovered = sorted(jira_modules - covered)
    assert not REPORT.uncovered, (f"no fault target for: {', '.join(REPORT.uncovered)} "
                                  "(add one to tests/reliability/cases_<module>.py)")


@pytest.mark.parametrize("target, fault", CASES, ids=[f"{t.name}: {f.id}" for t, f in CASES])
def test_fault(target, fault, emulator, tmp_path, fake_clock):
    reason = missing_requirements(target.module, target.requires)
    if reason:
        pytest.fail(reason)
    ctx = Ctx(tmp=str(tmp_path), url=emulator.url, emulator=emulator)
    items = [f"reliability {uuid.uuid4().hex[:12]}" for _exp in fault.expect]
    override = target.overrides.get(fault.id, {})
    # A batch sent over parallel connections may put the fault on any request in flight: "expect_any" lists the
    # acceptable outcomes.
    choices = []
    for option in override.get("expect_any") or [override.get("expect", fault.expect)]:
        choices.append([e if e is not None else
                        ("ok" if (fault.idempotent_ok if target.idempotent else fault.write_ok) else "fail")
                        for e in option])
    expected = choices[0]
    match = fault.write_match if (not target.idempotent and fault.write_match) else fault.match
    match = override.get("match", match)

    emulator.fault(target.path, method=target.method, **fault.spec)
    start = time.monotonic()
    outcomes = target.send(ctx, items, dict(fault.args))
    elapsed = time.monotonic() - start + fake_clock.waited
    _settle(emulator, target.path)
    attempts = len([r for r in emulator.requests(method=target.method) if fnmatch.fnmatchcase(r["path"], target.path)])
    retries = _retries(target, outcomes, attempts)
    stored = target.stored(ctx, items) if target.stored else None
    got = ["ok" if o.ok else "fail" for o in outcomes]
    if got in choices:
        expected = got
    lost = duplicated = 0
    if stored is not None:
        lost = sum(1 for g, s in zip(got, stored) if g == "ok" and s == 0)
        duplicated = sum(1 for s in stored if s > 1)
    REPORT.add("faults", target=target.name, fault=fault.id, outcome="/".join(got), attempts=attempts,
               retries=retries, elapsed=elapsed, clock="virtual", sent=len(items),
               stored="n/a" if stored is None else sum(stored),
               lost=lost, duplicated=duplicated)

    for o in outcomes:
        assert not has_traceback(o), o.traceback or o.result
    assert lost == 0, f"reported done but not stored: {list(zip(items, got, stored))}"
    assert duplicated == 0, f"stored more than once: {list(zip(items, stored))}"
    assert got == expected, f"outcomes {got}, expected {' or '.join(map(str, choices))}: {[o.msg for o in outcomes]}"
    for o, exp in zip(outcomes, expected):
        if exp == "fail":
            assert match.lower() in o.msg.lower(), f"message lacks {match!r}: {o.msg}"
        elif target.check:
            problem = target.check(ctx, o)
            assert problem is None, problem
    assert retries >= fault.min_retries
    assert elapsed >= fault.min_elapsed, f"did not wait for Retry-After: {elapsed:.2f}s"
    assert not fault.max_elapsed or elapsed < fault.max_elapsed, f"waited for a limit beyond the budget: {elapsed:.2f}s"
    if stored is not None:
        # A write that failed may only be stored when the error said so (it may have been processed).
        for o, exp, count in zip(outcomes, expected, stored):
            if exp == "fail" and count:
                assert UNSURE in o.msg, f"failed but stored without saying so: {o.msg}"
