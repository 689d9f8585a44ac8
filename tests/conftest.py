"""Shared pytest fixtures: the collection on sys.path, a live emulator, and an in-process module runner."""
from __future__ import annotations

import io
import json
import os
import sys
from contextlib import contextmanager, redirect_stdout

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)  # vault_support, clock_support
sys.path.insert(0, os.path.join(HERE, "reliability"))


def _collection_root():
    """Make ``ansible_collections.jiraops.integration`` importable; a copied tree (CI) wins over a symlink."""
    if os.environ.get("JIRAOPS_COLLECTIONS_ROOT"):
        return os.environ["JIRAOPS_COLLECTIONS_ROOT"]
    parts = REPO.split(os.sep)
    if len(parts) >= 3 and parts[-3] == "ansible_collections":
        return os.sep.join(parts[:-3])
    root = os.path.join(REPO, ".build", "pytest")
    link = os.path.join(root, "ansible_collections", "jiraops", "integration")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        try:
            os.symlink(REPO, link)
        except FileExistsError:  # another pytest-xdist worker made it first
            pass
    return root


sys.path.insert(0, _collection_root())

import reliability_support  # noqa: E402  pylint: disable=wrong-import-position
# The emulator fixtures (`emulator_server`, `emulator`: reset for each test) come with the emulator package.
# pylint: disable-next=wrong-import-position,unused-import
from jira_emulator.testing import Emulator, emulator, emulator_server  # noqa: E402,F401


LOADGROUP_BROKEN = "pytest-xdist's --dist loadgroup does not group xdist_group tests on pytest 9.2 (pytest-xdist#1386)"


def _release(name):
    """(major, minor) of an installed distribution."""
    from importlib.metadata import version  # pylint: disable=import-outside-toplevel
    return tuple(int(part) for part in version(name).split(".")[:2] if part.isdigit())


def pytest_configure(config):
    """Grouped module fixtures (the demo, a playbook run) would run once per worker where loadgroup cannot group:
    stop at once, saying why, instead of taking twice the time."""
    if (getattr(config.option, "dist", "no") == "loadgroup" and getattr(config.option, "numprocesses", None)
            and not hasattr(config, "workerinput")):
        if _release("pytest") >= (9, 2) and _release("pytest-xdist") <= (3, 8):
            raise pytest.UsageError(f"{LOADGROUP_BROKEN}: install requirements-dev.txt (pytest < 9.2)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The same on a worker, for releases the check above does not know: xdist_group marks that did not group."""
    if not getattr(config.option, "loadgroup", False):
        return
    lost = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(f"{LOADGROUP_BROKEN}: {len(lost)} tests lost their group, e.g. {lost[0]}")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pylint: disable=unused-argument
    """pytest-xdist: a finished worker's reliability rows join the controller's report."""
    rows = getattr(node, "workeroutput", {}).get("reliability_report")
    if rows:
        reliability_support.REPORT.merge(rows)


def pytest_terminal_summary(terminalreporter):
    path = reliability_support.write_report()
    if path:
        terminalreporter.write_sep("=", "reliability figures")
        terminalreporter.write_line(reliability_support.REPORT.markdown())
        terminalreporter.write_line(f"(written to {path})")


@pytest.fixture
def fake_clock(monkeypatch):
    """A test clock (clock_support.FakeClock) that every client built in this test waits on, also those a module's
    main() builds in-process: nothing sleeps, and the test can assert what was waited."""
    # pylint: disable-next=import-outside-toplevel
    from clock_support import FakeClock, install

    clock = FakeClock()
    install(clock, monkeypatch)
    return clock


@pytest.fixture(scope="session")
def bao_server():
    """A real OpenBao dev server for the Vault token store (fails, never skips, when `bao` is missing)."""
    from vault_support import BaoServer  # pylint: disable=import-outside-toplevel

    server = BaoServer().start()
    yield server
    server.stop()


@pytest.fixture
def vault(bao_server):
    """The OpenBao server, unsealed, with a fresh token store location for this test."""
    from vault_support import new_location  # pylint: disable=import-outside-toplevel

    if bao_server.api("GET", "/v1/sys/seal-status")["sealed"]:
        bao_server.unseal()
    bao_server.location = new_location()
    return bao_server


class ModuleResult(dict):
    @property
    def failed(self):
        return bool(self.get("failed"))


@contextmanager
def _module_args_before_2_19(args):
    """ansible-core < 2.19 has no ansible.module_utils.testing: AnsibleModule reads basic._ANSIBLE_ARGS instead."""
    from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel
    saved = basic._ANSIBLE_ARGS  # pylint: disable=protected-access
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()  # pylint: disable=protected-access
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = saved  # pylint: disable=protected-access


def run_module_inprocess(module, args, check_mode=False, diff=False):
    """Run a collection module's main() in-process and return its JSON result (real code, real HTTP)."""
    try:
        from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19
        patch_module_args = _module_args_before_2_19
    from ansible.module_utils.common import warnings  # pylint: disable=import-outside-toplevel

    # In-process runs share AnsibleModule's global warning lists; each run starts with empty ones.
    for name in ("_global_warnings", "_global_deprecations"):
        store = getattr(warnings, name, None)
        if store is not None:
            store.clear()
    args = dict(args)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff
    mod = __import__(f"ansible_collections.jiraops.integration.plugins.modules.{module}", fromlist=["main"])
    out = io.StringIO()
    # Once a test imports controller code (a filter or lookup plugin), ansible-core marks the whole process as the
    # controller and module warnings go to the display instead of the result; a module runs as on a target.
    try:
        from ansible.module_utils import _internal  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19 has no such mark
        _internal = None
    was_controller = getattr(_internal, "is_controller", False)
    if _internal:
        _internal.is_controller = False
    try:
        with patch_module_args(args), redirect_stdout(out):
            try:
                mod.main()
            except SystemExit:
                pass
    finally:
        if _internal:
            _internal.is_controller = was_controller
    text = out.getvalue()
    start = text.find("{")
    return ModuleResult(json.loads(text[start:]))


@pytest.fixture
def run_module():
    return run_module_inprocess
