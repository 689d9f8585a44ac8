"""Bad input: every malformed input fails with a clear message naming the option, no traceback, nothing written
and nothing sent to Jira. Rows live in cases_*.py (see reliability_support)."""
from __future__ import annotations

import glob
import os
import re

import pytest

from reliability_support import REPO, REPORT, BadInput, Ctx, expand, has_traceback, load_cases, missing_requirements, \
    names_option, run_module, snapshot

ROWS = load_cases("BAD_INPUT")


def test_the_table_has_rows_for_every_module_that_exists():
    modules = {row.module for row in ROWS}
    existing = {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py"))
                if not os.path.basename(p).startswith("_")}
    assert existing, "no modules found in plugins/modules"
    assert not existing - modules, f"modules without a bad-input row: {sorted(existing - modules)}"
    assert not modules - existing, f"rows naming modules that do not exist: {sorted(modules - existing)}"
    ids = [(row.module, row.id) for row in ROWS]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert all(isinstance(row, BadInput) for row in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.module}: {r.id}" for r in ROWS])
def test_bad_input(row, emulator, tmp_path):
    reason = missing_requirements(row.module, row.requires)
    if reason:
        pytest.fail(reason)
    if row.needs_non_root and os.geteuid() == 0:
        pytest.skip("running as root: permission bits do not stop root")
    work = tmp_path / "work"
    work.mkdir()
    ctx = Ctx(tmp=str(work), url=emulator.url, emulator=emulator)
    if row.setup:
        row.setup(ctx)
    before = snapshot(ctx.tmp)
    args = {k: v for k, v in expand(row.args, ctx).items() if v is not None}
    outcome = run_module(row.module, args, env=row.env)
    after = snapshot(ctx.tmp)
    sent = emulator.requests()
    traced = has_traceback(outcome)
    clear = outcome.failed and names_option(outcome.msg, row.option) and bool(
        re.search(row.match, outcome.msg, re.IGNORECASE) if row.match else outcome.msg)
    REPORT.add("bad_input", module=row.module, case=row.id, clear=clear, traceback=traced,
               partial_write=before != after or bool(sent),
               msg=(outcome.msg or (outcome.traceback or "")[-200:]).replace(ctx.tmp, "<tmp>"))
    assert not traced, f"traceback instead of a clean failure:\n{outcome.traceback or outcome.result}"
    assert outcome.failed, f"accepted bad input: {outcome.result}"
    assert names_option(outcome.msg, row.option), f"message does not name {row.option!r}: {outcome.msg}"
    if row.match:
        assert re.search(row.match, outcome.msg, re.IGNORECASE), f"message does not match {row.match!r}: {outcome.msg}"
    assert before == after, f"files changed: {sorted(set(before) ^ set(after)) or 'content or mode'}"
    assert sent == [], f"requests were sent: {[(r['method'], r['path']) for r in sent]}"
