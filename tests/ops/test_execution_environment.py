"""Execution environment: ``ansible-builder create`` on the documented docs/execution-environment.yml writes a valid
build context, and the collection's meta/execution-environment.yml gives ansible-builder its Python and system
requirements once the collection is installed from the release tarball. No image is built here."""
from __future__ import annotations

import os
import re
import shutil
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

EE_DOC = os.path.join(ansible_run.REPO, "docs", "execution-environment.yml")


def _requirements():
    with open(os.path.join(ansible_run.collection_dir(), "requirements.txt"), encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


def _create(ee_file, context, home):
    proc = ansible_run.run([ansible_run.tool("ansible-builder"), "create", "-f", ee_file, "-c", context,
                            "--output-filename", "Containerfile"], env=ansible_run.base_env(home))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(os.path.join(context, "Containerfile"), encoding="utf-8") as handle:
        return handle.read()


def test_builder_create_on_the_documented_file(tmp_path):
    containerfile = _create(EE_DOC, str(tmp_path / "context"), str(tmp_path))
    with open(tmp_path / "context" / "_build" / "requirements.yml", encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    assert {"name": "jiraops.integration", "version": ">=0.1.0"} in galaxy["collections"]
    # The build installs the collection, then introspects it for its Python and system requirements.
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert re.search(r"introspect\.py introspect .*--write-pip=\S+", containerfile)
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.16 ansible-runner"' in containerfile
    assert os.path.exists(tmp_path / "context" / "_build" / "scripts" / "introspect.py")
    # The image must sign RSA-SHA1, which UBI 9's packaged oauthlib and crypto policy refuse: checked at build time.
    [check] = [line for line in containerfile.splitlines() if "check_rsa_sha1" in line]
    assert check.startswith("RUN $PYCMD -c ") and "/usr/share/ansible/collections" in check


def test_requirements_are_above_the_packages_that_refuse_rsa_sha1():
    """UBI 9 ships python3-oauthlib 3.1.1 (RSA-SHA1 patched out) and python3-cryptography 36: pip must replace them."""
    requirements = " ".join(_requirements())
    assert "oauthlib[signedtoken]>=3.2" in requirements and "cryptography>=41" in requirements


def test_builder_create_from_the_release_tarball(tmp_path, collection_tarball):
    """The documented variant: the collection from a tarball built here rather than from Galaxy."""
    with open(EE_DOC, encoding="utf-8") as handle:
        ee = yaml.safe_load(handle)
    name = os.path.basename(collection_tarball)
    shutil.copy(collection_tarball, tmp_path / name)
    ee["dependencies"]["galaxy"] = {"collections": [{"name": f"_build/{name}", "type": "file"}]}
    ee["additional_build_files"] = [{"src": name, "dest": "."}]
    ee_file = tmp_path / "execution-environment.yml"
    ee_file.write_text(yaml.safe_dump(ee), encoding="utf-8")
    _create(str(ee_file), str(tmp_path / "context"), str(tmp_path))
    assert (tmp_path / "context" / "_build" / name).stat().st_size == os.path.getsize(collection_tarball)


def test_installed_collection_declares_its_requirements(tmp_path, collection_tarball):
    """What the build's introspect step finds in the installed collection: requirements.txt and bindep.txt."""
    collections = str(tmp_path / "collections")
    # Only the fresh path: with the tree under test on ANSIBLE_COLLECTIONS_PATH the install would be a no-op.
    env = ansible_run.base_env(str(tmp_path), {"ANSIBLE_COLLECTIONS_PATH": collections})
    proc = ansible_run.run([ansible_run.tool("ansible-galaxy"), "collection", "install", "--offline",
                            collection_tarball, "-p", collections], env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert os.path.exists(os.path.join(collections, "ansible_collections", "jiraops", "integration", "MANIFEST.json"))
    proc = ansible_run.run([ansible_run.tool("ansible-builder"), "introspect", collections], env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = yaml.safe_load(proc.stdout.split("\n", 1)[1])
    python = [entry.split("#")[0].strip() for entry in data["python"]]
    assert python == _requirements()
    assert all("from collection jiraops.integration" in entry for entry in data["python"] + data["system"])
    assert [entry.split("#")[0].strip() for entry in data["system"]] == ["git [platform:rpm platform:dpkg]"]
