"""The reliability suite's registry and report.

A module plugs in by adding a file ``tests/reliability/cases_<module>.py`` that defines any of:

- ``BAD_INPUT``: a list of :class:`BadInput` rows (malformed input; a clear error naming the option, no traceback,
  nothing written, nothing sent);
- ``FAULT_TARGETS``: a list of :class:`FaultTarget` (a module call that talks to Jira; every fault in
  ``test_faults.FAULTS`` is injected into it through the emulator's control API);

The -vvvv secret scan is ``secret_scan.py`` (the integration run) and the ansible-runner demo test. A row whose module
or shared option does not exist fails (a renamed module must not turn its rows into silent skips).
Each test records one row in :data:`REPORT`, written to ``.build/reliability.md`` (the README quotes it).
"""
from __future__ import annotations

import glob
import importlib
import io
import json
import os
import re
import stat
import sys
import time
import traceback
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
REPO = os.path.dirname(TESTS)

# ---------------------------------------------------------------------------------------------------------------
# What exists in the collection right now
# ---------------------------------------------------------------------------------------------------------------


def module_exists(name):
    return os.path.exists(os.path.join(REPO, "plugins", "modules", f"{name}.py"))


def shared_options():
    """Names of the shared connection/auth options (plugins/module_utils/_options.py)."""
    from ansible_collections.jiraops.integration.plugins.module_utils import _options  # pylint: disable=import-outside-toplevel
    return set(_options.connection_argspec())


def option_exists(name):
    return name in shared_options()


def missing_requirements(module=None, options=()):
    """What a row names that the collection lacks (None when nothing); callers fail the row with it."""
    if module and not module_exists(module):
        return f"no module {module} in plugins/modules (renamed or removed? fix the row)"
    absent = [o for o in options if not option_exists(o)]
    if absent:
        return f"no shared option {', '.join(absent)} in plugins/module_utils/_options.py (fix the row)"
    return None


# ---------------------------------------------------------------------------------------------------------------
# Running a module in-process and classifying what came out
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    failed: bool
    msg: str
    result: dict
    traceback: Optional[str] = None
    elapsed: float = 0.0

    @property
    def ok(self):
        return not self.failed and self.traceback is None


def run_module(module, args, env=None, check_mode=False):
    """``main()`` of a collection module with ``args``; an uncaught exception is reported, not raised."""
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel

    args = dict(args)
    args.setdefault("_ansible_check_mode", check_mode)
    saved = {}
    for key, value in (env or {}).items():
        bkey = key.encode()
        saved[bkey] = os.environb.get(bkey)
        os.environb[bkey] = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")
    out = io.StringIO()
    start = time.monotonic()
    tb = None
    try:
        mod = importlib.import_module(f"ansible_collections.jiraops.integration.plugins.modules.{module}")
        with patch_module_args(args), redirect_stdout(out):
            try:
                mod.main()
            except SystemExit:
                pass
    except Exception:  # pylint: disable=broad-except
        tb = traceback.format_exc()
    finally:
        for bkey, value in saved.items():
            if value is None:
                os.environb.pop(bkey, None)
            else:
                os.environb[bkey] = value
    elapsed = time.monotonic() - start
    text = out.getvalue()
    result = {}
    if text.strip():
        try:
            result = json.loads(text[text.find("{"):])
        except ValueError:
            tb = (tb or "") + "\nunparseable module output: " + text[:2000]
    if not result and tb is None:
        tb = "the module printed nothing"
    return Outcome(failed=bool(result.get("failed")) or tb is not None, msg=str(result.get("msg", "")),
                   result=result, traceback=tb, elapsed=elapsed)


def has_traceback(outcome):
    blob = json.dumps(outcome.result, default=str)
    return outcome.traceback is not None or "Traceback (most recent call last)" in blob or "exception" in outcome.result


def snapshot(root):
    """Every path under ``root`` with its kind, mode and content: compared before/after to prove nothing was written."""
    facts = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            entry = {"mode": stat.S_IMODE(st.st_mode), "kind": stat.S_IFMT(st.st_mode)}
            if stat.S_ISREG(st.st_mode):
                try:
                    with open(path, "rb") as handle:
                        entry["data"] = handle.read()
                except OSError:
                    entry["data"] = None
            facts[os.path.relpath(path, root)] = entry
    return facts


# ---------------------------------------------------------------------------------------------------------------
# Table rows
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Ctx:
    """What a row's ``args``/``setup`` may use: a private temp dir and the emulator."""

    tmp: str
    url: str
    emulator: object = None

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write(self, name, data, mode=0o600):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        os.chmod(path, mode)
        return path


def expand(value, ctx):
    """``{tmp}`` and ``{url}`` in strings (recursively) become the row's temp dir and the emulator URL."""
    if isinstance(value, str):
        return value.replace("{tmp}", ctx.tmp).replace("{url}", ctx.url)
    if isinstance(value, dict):
        return {k: expand(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, ctx) for v in value]
    return value


@dataclass
class BadInput:
    """One malformed input: the task must fail with a message naming ``option`` and matching ``match``."""

    id: str
    module: str
    args: dict
    option: str
    match: str = ""
    setup: Optional[Callable[[Ctx], None]] = None
    env: dict = field(default_factory=dict)
    requires: tuple = ()  # shared options the row needs (e.g. client_secret); the row fails without them
    needs_non_root: bool = False  # permission bits do not stop root


@dataclass
class FaultTarget:
    """A module call that talks to Jira, as the fault suite drives it.

    ``send(ctx, items, extra_args)`` runs the module for the item ids and returns one Outcome per item (a batch
    module runs once and splits its result); ``stored(ctx, items)`` counts how often each item is stored on the
    emulator (None for reads); ``check(ctx, outcome)`` validates a successful read (None when fine).

    ``batch``: the items go out in one module run, one bulk request per item, and the run stops at the first
    request that fails (so the items after it are not sent, except those already sent in parallel with it).
    ``overrides`` maps a fault id to ``{"expect": (...), "match": "..."}`` where the module's right answer differs
    from the default (an auth method that re-authenticates after a 401, a batch that stops); ``"expect_any": [...]``
    lists several right answers (a fault that meets whichever parallel request arrives first). Retries are the module's ``retries`` return when it
    has one, else the attempts the emulator saw on ``path`` beyond one per logical request.
    """

    name: str
    module: str
    path: str  # fault path glob
    method: str
    send: Callable
    stored: Optional[Callable] = None
    check: Optional[Callable] = None
    idempotent: bool = True
    requires: tuple = ()
    batch: bool = False
    overrides: dict = field(default_factory=dict)


def load_cases(kind):
    """All rows of ``kind`` (BAD_INPUT, FAULT_TARGETS) from tests/reliability/cases_*.py."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    rows = []
    for path in sorted(glob.glob(os.path.join(HERE, "cases_*.py"))):
        mod = importlib.import_module(os.path.basename(path)[:-3])
        rows.extend(getattr(mod, kind, []))
    return rows


# ---------------------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.rows = {"faults": [], "bad_input": [], "secrets": [], "tls": [], "hostile": []}
        self.uncovered = []  # Jira modules without a fault target

    def add(self, section, **row):
        self.rows[section].append(row)

    def empty(self):
        return not any(self.rows.values())

    def dump(self):
        """The rows as JSON text: a pytest-xdist worker hands them to the controller, which writes the report."""
        return json.dumps({"rows": self.rows, "uncovered": self.uncovered}, default=str)

    def merge(self, text):
        data = json.loads(text)
        for section, rows in data["rows"].items():
            self.rows[section].extend(rows)
        self.uncovered = sorted(set(self.uncovered) | set(data["uncovered"]))

    def markdown(self):
        out = ["# Reliability figures", "",
               f"Generated by `tests/reliability` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", ""]
        faults = self.rows["faults"]
        if faults:
            lost = sum(r["lost"] for r in faults)
            dup = sum(r["duplicated"] for r in faults)
            out += ["## Faults injected through the emulator", "",
                    f"{len(faults)} scenarios; entities lost: {lost}; duplicated: {dup}. Lost: reported done but "
                    "not stored. A write that failed may be stored only when its error said that Jira may have "
                    "processed it (a create -- POST, or the PUT that creates an application link -- whose reply timed out or "
                    "whose connection dropped is not sent again).", ""]
            if self.uncovered:
                out += [f"Modules that talk to Jira without a fault target yet: {', '.join(self.uncovered)}.", ""]
            out += ["| module call | fault | outcome | attempts | retries | time (s) | sent | stored | lost | duplicated |",
                    "|---|---|---|---|---|---|---|---|---|---|"]
            for r in faults:
                out.append(f"| {r['target']} | {r['fault']} | {r['outcome']} | {r['attempts']} | {r['retries']} | "
                           f"{r['elapsed']:.2f} | {r['sent']} | {r['stored']} | {r['lost']} | {r['duplicated']} |")
            out.append("")
        bad = self.rows["bad_input"]
        if bad:
            clear = sum(1 for r in bad if r["clear"])
            tbs = sum(1 for r in bad if r["traceback"])
            writes = sum(1 for r in bad if r["partial_write"])
            out += ["## Bad input", "",
                    f"{len(bad)} malformed inputs; clear error naming the option: {clear}; tracebacks: {tbs}; "
                    f"partial writes: {writes}.", "",
                    "| module | case | option named | traceback | partial write | message |",
                    "|---|---|---|---|---|---|"]
            for r in bad:
                msg = r["msg"].replace("|", "\\|").replace("\n", " ")
                if len(msg) > 110:
                    msg = msg[:107] + "..."
                out.append(f"| {r['module']} | {r['case']} | {'yes' if r['clear'] else 'NO'} | "
                           f"{'YES' if r['traceback'] else 'no'} | {'YES' if r['partial_write'] else 'no'} | {msg} |")
            out.append("")
        secrets = self.rows["secrets"]
        if secrets:
            out += ["## Secrets in -vvvv output", "",
                    f"{len(secrets)} scenarios; leaked secrets: {sum(r['leaks'] for r in secrets)}.", "",
                    "| scenario | tasks ok | output scanned (bytes) | secrets planted/seen | leaks |",
                    "|---|---|---|---|---|"]
            for r in secrets:
                out.append(f"| {r['scenario']} | {r['tasks']} | {r['bytes']} | {r['secrets']} | {r['leaks']} |")
            out.append("")
        hostile = self.rows["hostile"]
        if hostile:
            out += ["## Hostile hosts and replies (capture server on loopback)", "", "| case | figure |", "|---|---|"]
            out += [f"| {r['case']} | {r['figure']} |" for r in hostile]
            out.append("")
        tls = self.rows["tls"]
        if tls:
            out += ["## TLS against an HTTPS emulator with a test CA", "",
                    "| case | expected | result | message |", "|---|---|---|---|"]
            for r in tls:
                msg = r["msg"].replace("|", "\\|")
                if len(msg) > 110:
                    msg = msg[:107] + "..."
                out.append(f"| {r['case']} | {r['expected']} | {r['result']} | {msg} |")
            out.append("")
        return "\n".join(out)


REPORT = Report()


def report_path():
    """``.build/reliability.md`` of the checkout (not of the copy scripts/test.sh runs pytest in)."""
    if os.environ.get("JIRAOPS_RELIABILITY_REPORT"):
        return os.environ["JIRAOPS_RELIABILITY_REPORT"]
    root = REPO
    marker = os.sep + os.path.join(".build", "collections", "ansible_collections") + os.sep
    if marker in root + os.sep:
        root = (root + os.sep).split(marker)[0]
    return os.path.join(root, ".build", "reliability.md")


def write_report():
    if REPORT.empty():
        return None
    path = report_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(REPORT.markdown() + "\n")
    return path


def names_option(msg, option):
    """The message names the option as a word (``url: ...``, ``argument 'timeout'``, ``ca_path``)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(option)}(?![A-Za-z0-9_])", msg) is not None
