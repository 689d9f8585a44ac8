"""Releases: the tarball ``ansible-galaxy collection build`` makes ships the collection and nothing of the dev setup,
and the changelog fragments are valid."""
from __future__ import annotations

import fnmatch
import glob
import json
import os
import subprocess
import sys
import tarfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

# Nothing of the test and dev setup may ship, nor the emulator (its own package) and its demo. docs/ and extensions/
# do ship.
FORBIDDEN = ["tests", "tests/*", "scripts", "scripts/*", ".ci", ".ci/*", "benchmarks", "benchmarks/*", ".venv*",
             "emulator", "emulator/*", "*jira_emulator*", "demo", "demo/*", "playbooks/demo*",
             ".build*", ".git", ".git/*", ".gitignore", ".cache*", ".ansible*", ".pytest_cache*", "*__pycache__*",
             "*.pyc", "requirements-dev.txt", "Makefile", "*.tar.gz", "roles/*/molecule", "roles/*/molecule/*",
             "extensions/molecule", "extensions/molecule/*",
             "changelogs/.plugin-cache.yaml", ".ansible-lint", "*.orig", "*.rej"]
REQUIRED = ["MANIFEST.json", "FILES.json", "README.md", "COPYING", "meta/runtime.yml",
            "meta/execution-environment.yml", "requirements.txt", "bindep.txt", "plugins/modules/api.py",
            "plugins/module_utils/_client.py", "changelogs/changelog.yaml", "playbooks/report_build.yml",
            "extensions/awx/credential_types/jira_basic_pat.yml", "docs/execution-environment.yml"]


def _names(tarball):
    proc = subprocess.run(["tar", "tzf", tarball], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          check=True)
    return [n.rstrip("/") for n in proc.stdout.splitlines() if n.strip() and n.rstrip("/") != "."]


def test_tarball_has_no_test_or_dev_files(collection_tarball):
    names = [n[2:] if n.startswith("./") else n for n in _names(collection_tarball)]
    bad = sorted(n for n in names for pattern in FORBIDDEN if fnmatch.fnmatch(n, pattern))
    assert not bad, f"dev/test files in the release tarball: {bad}"
    missing = [n for n in REQUIRED if n not in names]
    assert not missing, f"missing from the release tarball: {missing}"


def test_tarball_ships_every_plugin_and_role(collection_tarball):
    names = set(_names(collection_tarball))
    root = ansible_run.collection_dir()
    for top in ("plugins", "roles", "extensions", "meta"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = [d for d in dirnames if d not in ("__pycache__", "molecule")]  # molecule: tests
            for name in filenames:
                if name.endswith(".pyc"):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                assert rel in names, f"{rel} is not in the tarball"


def test_manifest_matches_galaxy_yml(collection_tarball):
    with open(os.path.join(ansible_run.collection_dir(), "galaxy.yml"), encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    with tarfile.open(collection_tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == (
        galaxy["namespace"], galaxy["name"], galaxy["version"])
    assert os.path.basename(collection_tarball) == f"jiraops-integration-{galaxy['version']}.tar.gz"
    assert os.path.getsize(collection_tarball) < 2 * 1024 * 1024


def test_changelog_fragments_lint(tmp_path):
    env = ansible_run.base_env(str(tmp_path))
    proc = ansible_run.run([ansible_run.tool("antsibull-changelog"), "lint"], env=env,
                           cwd=ansible_run.collection_dir())
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def _gitignored(root):
    with open(os.path.join(root, ".gitignore"), encoding="utf-8") as handle:
        return {line.strip().rstrip("/") for line in handle if line.strip() and not line.startswith("#")}


def test_build_ignore_names_only_paths_that_exist_or_are_generated():
    """A stale entry hides nothing today and may hide a real file tomorrow; generated paths are in .gitignore."""
    root = ansible_run.collection_dir()
    with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as handle:
        entries = yaml.safe_load(handle)["build_ignore"]
    assert len(entries) == len(set(entries)), f"repeated build_ignore entries: {entries}"
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        paths += [os.path.relpath(os.path.join(dirpath, n), root) for n in dirnames + filenames]
    generated = _gitignored(root)
    stale = [e for e in entries if e != ".git" and e not in generated
             and not any(fnmatch.fnmatch(p, e) for p in paths)]
    assert not stale, f"build_ignore entries matching nothing (and not generated, see .gitignore): {stale}"


def test_no_bugfix_fragments_before_the_first_release():
    """Nothing is released yet, so there is nothing to fix: what users need to know is a minor change."""
    root = ansible_run.collection_dir()
    with open(os.path.join(root, "changelogs", "changelog.yaml"), encoding="utf-8") as handle:
        released = (yaml.safe_load(handle) or {}).get("releases") or {}
    if released:
        return
    with_fixes = []
    for path in sorted(glob.glob(os.path.join(root, "changelogs", "fragments", "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            if "bugfixes" in (yaml.safe_load(handle) or {}):
                with_fixes.append(os.path.basename(path))
    assert not with_fixes, f"bugfixes of unreleased code in {with_fixes}: fold them into minor_changes or drop them"
