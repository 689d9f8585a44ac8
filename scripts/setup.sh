#!/usr/bin/env bash
# scripts/setup.sh -- idempotent bootstrap of the dev/test virtualenv ($REPO/.venv).
#
# Run it:     scripts/setup.sh            (safe to call from every script; ~0.5 s when nothing changed)
# Source it:  . scripts/setup.sh          (same bootstrap, then in the calling shell:
#                                          REPO, VENV, PATH=$VENV/bin:..., ANSIBLE_HOME, and the functions
#                                          build_collection_tree, jiraops_activate, jiraops_log -- see scripts/lib.sh)
#
# Python: ansible-core 2.20 needs Python >= 3.12 on the controller. Tried in this order, each one actually run:
#   $JIRAOPS_PYTHON (if set, it must work: no fallback), python3.13, python3.12, python3 on PATH,
#   then $(pyenv root)/versions/3.1[2-9]*/bin/python3 (newest first; pyenv shims of versions that are not
#   in `pyenv global` fail, hence the full paths).
# Installs requirements-dev.txt (which includes requirements.txt) with pip -q. The install is skipped when
# .venv/.jiraops-setup-stamp matches sha256(requirements*.txt + chosen Python's version and path).
# The venv is recreated when the chosen Python differs from the one .venv was made with.
# Env: JIRAOPS_PYTHON=/path/to/python3.12+  JIRAOPS_SETUP_VERBOSE=1 (pip not quiet)
# Prints one line on stderr saying what it did.

_jiraops_setup_sourced=0
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then _jiraops_setup_sourced=1; fi
if [[ $_jiraops_setup_sourced == 0 ]]; then set -euo pipefail; fi

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Print "X.Y.Z<TAB>sys.executable" if $1 runs and is Python >= 3.12 with venv/ensurepip, else fail.
_jiraops_probe_python() {
    "$1" - <<'EOF' 2>/dev/null
import sys
if sys.version_info < (3, 12):
    sys.exit(1)
import venv, ensurepip  # noqa: F401  (Debian-style pythons may lack them)
# Inside a virtualenv (ours is on PATH once activated), report the interpreter it was made from.
exe = sys.executable if sys.prefix == sys.base_prefix else getattr(sys, "_base_executable", sys.executable)
print("%d.%d.%d\t%s" % (sys.version_info[:3] + (exe,)))
EOF
}

# Sets _jiraops_py_version and _jiraops_py_exe, or fails.
_jiraops_pick_python() {
    local cand out pyroot
    local -a cands=()
    if [[ -n "${JIRAOPS_PYTHON:-}" ]]; then
        if out="$(_jiraops_probe_python "$JIRAOPS_PYTHON")" && [[ -n "$out" ]]; then
            _jiraops_py_version="${out%%$'\t'*}" _jiraops_py_exe="${out#*$'\t'}"
            _jiraops_py_source="\$JIRAOPS_PYTHON"
            return 0
        fi
        jiraops_log "ERROR: needs Python >= 3.12 (ansible-core 2.20) with venv and ensurepip;"
        jiraops_log "JIRAOPS_PYTHON=$JIRAOPS_PYTHON does not run or is not one. Point it at such an interpreter, or unset it to search."
        return 1
    fi
    # Look past our own .venv (it is on PATH once activated): choosing it would delete the interpreter in use.
    local search_path=":$PATH:"
    search_path="${search_path//:$VENV\/bin:/:}"
    for cand in python3.13 python3.12 python3; do
        if PATH="$search_path" command -v "$cand" >/dev/null 2>&1; then cands+=("$(PATH="$search_path" command -v "$cand")"); fi
    done
    if command -v pyenv >/dev/null 2>&1 && pyroot="$(pyenv root 2>/dev/null)"; then :; else pyroot="$HOME/.pyenv"; fi
    if [[ -d "$pyroot/versions" ]]; then
        while IFS= read -r cand; do
            [[ -n "$cand" ]] && cands+=("$cand")
        done < <(compgen -G "$pyroot/versions/3.1[2-9]*/bin/python3" | sort -V -r)
    fi
    for cand in "${cands[@]}"; do
        if out="$(PATH="$search_path" _jiraops_probe_python "$cand")" && [[ -n "$out" ]]; then
            _jiraops_py_version="${out%%$'\t'*}" _jiraops_py_exe="${out#*$'\t'}"
            _jiraops_py_source="$cand"
            return 0
        fi
    done
    jiraops_log "ERROR: needs Python >= 3.12 (ansible-core 2.20); tried: ${cands[*]:-nothing found}."
    jiraops_log "Provide one: export JIRAOPS_PYTHON=/path/to/python3.12 (or 3.13), put python3.12/python3.13 on PATH,"
    jiraops_log "or install it under pyenv (pyenv install 3.12) -- \$(pyenv root)/versions/3.1x*/bin/python3 is found automatically."
    return 1
}

_jiraops_setup() (
    set -euo pipefail
    _jiraops_pick_python
    local stamp_file="$VENV/.jiraops-setup-stamp" stamp want_venv_py action
    # Stamp: every requirements*.txt at the repo root and the emulator's pyproject.toml (name + content), the interpreter.
    stamp="$(
        cd "$REPO"
        for f in requirements*.txt emulator/pyproject.toml; do
            [[ -f "$f" ]] && printf '%s\n' "$f" && cat "$f"
        done
        printf 'python %s %s\n' "$_jiraops_py_version" "$_jiraops_py_exe"
    )"
    stamp="$(printf '%s' "$stamp" | sha256sum | cut -d' ' -f1)"
    local which="Python $_jiraops_py_version ($_jiraops_py_exe"
    [[ "$_jiraops_py_source" != "$_jiraops_py_exe" ]] && which+=", found as $_jiraops_py_source"
    which+=")"
    _up_to_date() { [[ -x "$VENV/bin/python" && -f "$stamp_file" && "$(<"$stamp_file")" == "$stamp" ]]; }
    if _up_to_date; then
        jiraops_log "setup: .venv up to date with requirements-dev.txt, $which; nothing to do"
        return 0
    fi
    # Serialise concurrent first calls; the one that waited finds the stamp written.
    mkdir -p "$BUILD_DIR"
    exec 9>"$BUILD_DIR/setup.lock"
    flock 9
    if _up_to_date; then
        jiraops_log "setup: .venv up to date with requirements-dev.txt, $which; nothing to do"
        return 0
    fi
    local t0=$SECONDS quiet=(-q)
    [[ -n "${JIRAOPS_SETUP_VERBOSE:-}" ]] && quiet=()
    # Recreate the venv if it is missing, broken or made from another interpreter.
    want_venv_py="$("$VENV/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)"
    if [[ "$want_venv_py" != "$_jiraops_py_version" ]] || ! grep -qxF "home = $(dirname "$_jiraops_py_exe")" "$VENV/pyvenv.cfg" 2>/dev/null; then
        rm -rf "$VENV"
        "$_jiraops_py_exe" -m venv "$VENV"
        action="created .venv and installed"
    else
        action="updated"
    fi
    rm -f "$stamp_file"
    # This machine's pip config lists file:// extra indexes that only exist for some packages: pip warns once per
    # package it looks up ("Location 'file:///...' is ignored"). Drop that noise, keep everything else.
    # From $REPO: pip reads the `-e ./emulator` of requirements-dev.txt relative to the working directory.
    cd "$REPO"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install "${quiet[@]}" -r "$REPO/requirements-dev.txt" 2>&1 |
        { grep -v "^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory.\$" || true; } >&2
    printf '%s' "$stamp" >"$stamp_file"
    jiraops_log "setup: $action requirements-dev.txt, $which, in $((SECONDS - t0)) s"
)

if [[ $_jiraops_setup_sourced == 1 ]]; then
    _jiraops_setup && jiraops_activate
    # shellcheck disable=SC2317  # reachable: this file is sourced
    return
fi
_jiraops_setup
