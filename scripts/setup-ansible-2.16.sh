#!/usr/bin/env bash
# scripts/setup-ansible-2.16.sh -- idempotent bootstrap of $REPO/.venv-2.16: ansible-core 2.16 on Python 3.11.
#
# requires_ansible (meta/runtime.yml) admits ansible-core 2.16, which Automation Platform execution environments
# commonly ship; scripts/test-ansible-2.16.sh runs the unit tests and the integration targets in this venv.
# ansible-core 2.16's controller needs Python 3.10-3.12 (the newest ansible-core needs 3.12+). Tried in order:
#   $JIRAOPS_PYTHON_216 (if set, it must work), /usr/bin/python3, python3.11, $(pyenv root)/versions/3.11*.
# Installs tests/requirements-ansible-2.16.txt; skipped when .venv-2.16/.jiraops-setup-stamp matches.
# Exit status: 0 ready, 3 no suitable Python found (the reason is printed), anything else a failure (also a
# JIRAOPS_PYTHON_216 that is not such a Python).
# Sourced, it sets VENV_216 and returns the same status.

_jiraops_216_sourced=0
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then _jiraops_216_sourced=1; else set -euo pipefail; fi
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VENV_216="$REPO/.venv-2.16"
export VENV_216

_jiraops_setup_216() (
    set -euo pipefail
    local cand out py="" req="$REPO/tests/requirements-ansible-2.16.txt" stamp
    local -a cands=()
    if [[ -n "${JIRAOPS_PYTHON_216:-}" ]]; then cands=("$JIRAOPS_PYTHON_216"); else
        cands=(/usr/bin/python3 python3.11)
        while IFS= read -r cand; do [[ -n "$cand" ]] && cands+=("$cand"); done < <(
            compgen -G "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/3.11*/bin/python3" | sort -V -r)
    fi
    for cand in "${cands[@]}"; do
        out="$("$cand" -c 'import sys, venv, ensurepip; assert (3, 10) <= sys.version_info[:2] <= (3, 12)
print("%d.%d.%d %s" % (sys.version_info[:3] + (sys.executable,)))' 2>/dev/null)" && py="$out" && break
    done
    if [[ -z "$py" && -n "${JIRAOPS_PYTHON_216:-}" ]]; then
        jiraops_log "JIRAOPS_PYTHON_216=$JIRAOPS_PYTHON_216 is not a Python 3.10-3.12 with venv and ensurepip"
        jiraops_log "(ansible-core 2.16's controller range): point it at one, or unset it to search."
        exit 1
    elif [[ -z "$py" ]]; then
        jiraops_log "ansible-core 2.16 needs Python 3.10-3.12 (3.11 preferred) with venv and ensurepip on the"
        jiraops_log "controller; tried: ${cands[*]}. Install python3.11 (apt-get install python3.11-venv, or"
        jiraops_log "pyenv install 3.11) or set JIRAOPS_PYTHON_216=/path/to/python3.11."
        exit 3
    fi
    stamp="$( (cat "$req" "$REPO/requirements.txt" "$REPO/emulator/pyproject.toml"; echo "python $py") | sha256sum | cut -d' ' -f1)"
    if [[ -x "$VENV_216/bin/python" && "$(cat "$VENV_216/.jiraops-setup-stamp" 2>/dev/null)" == "$stamp" ]]; then
        jiraops_log "setup: .venv-2.16 up to date (ansible-core 2.16, Python $py)"
        exit 0
    fi
    mkdir -p "$BUILD_DIR"
    exec 9>"$BUILD_DIR/setup-2.16.lock"
    flock 9
    local t0=$SECONDS
    rm -rf "$VENV_216"
    "${py#* }" -m venv "$VENV_216"
    cd "$REPO"  # the requirements' `-e ./emulator` is read relative to the working directory
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV_216/bin/python" -m pip install -q -r "$req" 2>&1 |
        { grep -v "^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory.\$" || true; } >&2
    printf '%s' "$stamp" >"$VENV_216/.jiraops-setup-stamp"
    jiraops_log "setup: created .venv-2.16 (ansible-core 2.16, Python $py) in $((SECONDS - t0)) s"
)

if [[ $_jiraops_216_sourced == 1 ]]; then
    _jiraops_setup_216
    # shellcheck disable=SC2317  # reachable: this file is sourced
    return
fi
_jiraops_setup_216
