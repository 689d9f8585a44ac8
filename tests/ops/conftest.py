"""Fixtures of the operations tests: one collection tarball built per session."""
from __future__ import annotations

import glob
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_run  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory):
    """``ansible-galaxy collection build`` of the tree under test, as a release would make it."""
    out = tmp_path_factory.mktemp("dist")
    home = str(tmp_path_factory.mktemp("home"))
    proc = ansible_run.run([ansible_run.tool("ansible-galaxy"), "collection", "build", ansible_run.collection_dir(),
                            "--output-path", str(out)], env=ansible_run.base_env(home))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = glob.glob(str(out / "jiraops-integration-*.tar.gz"))
    assert len(found) == 1, found
    return found[0]
