"""Every plugin's ansible-doc page renders, with examples and a RETURN block for modules."""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, _collection_root

KINDS = {"modules": "module", "lookup": "lookup", "filter": "filter"}


def plugins():
    for folder, kind in KINDS.items():
        path = os.path.join(REPO, "plugins", folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if name.endswith(".py") and not name.startswith("_"):
                yield kind, name[:-3]


def filter_names():
    """Every filter the collection's filter plugins register."""
    out = []
    for _kind, name in (p for p in plugins() if p[0] == "filter"):
        module = importlib.import_module(f"ansible_collections.jiraops.integration.plugins.filter.{name}")
        out.extend(module.FilterModule().filters())
    return sorted(out)


@pytest.mark.parametrize("kind", sorted(set(KINDS.values())))
def test_ansible_doc_renders(kind):
    names = [f"jiraops.integration.{n}" for k, n in plugins() if k == kind]
    if kind == "filter":
        # A filter file may hold several filters; ansible-doc documents each by its own name, from <name>.yml.
        names = [f"jiraops.integration.{n}" for n in filter_names()]
        undocumented = [n for n in filter_names() if not os.path.exists(os.path.join(REPO, "plugins", "filter",
                                                                                     f"{n}.yml"))]
        assert not undocumented, f"filters without plugins/filter/<name>.yml: {undocumented}"
    assert names, f"no {kind} plugins found in plugins/{[f for f, k in KINDS.items() if k == kind][0]}"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collection_root())
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    out = subprocess.run([ansible_doc, "-t", kind, "--json", *names], env=env, capture_output=True, text=True,
                         check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    docs = json.loads(out.stdout)
    for name in names:
        page = docs[name]
        assert page["doc"]["short_description"], name
        assert page["doc"].get("description"), name
        assert page.get("examples") and "jiraops.integration." in page["examples"], f"{name}: EXAMPLES with FQCN"
        if kind == "module":
            assert page.get("return"), f"{name}: RETURN"
            assert page["doc"].get("attributes", {}).get("check_mode"), f"{name}: check_mode attribute"
