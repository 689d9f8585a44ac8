#!/usr/bin/env bash
# scripts/test-ansible-2.16.sh -- the unit tests and the ansible-test integration targets on ansible-core 2.16
# (Python 3.11, .venv-2.16 from scripts/setup-ansible-2.16.sh), the oldest core requires_ansible admits.
# scripts/test.sh runs it as its "ansible-core 2.16" stage; it also runs alone. PYTEST_ARGS and INTEGRATION_ARGS
# apply as in scripts/test.sh. Ends with one line "ansible-core 2.16: N passed, N failed" or, only when no
# suitable Python exists, "ansible-core 2.16: skipped (...)" after the reason.
# Its own copy of the collection (.build/collections-2.16) leaves scripts/test.sh's copy alone. The venv is made
# once and reused while its stamp matches (scripts/setup-ansible-2.16.sh); each group's whole output is kept in
# .build/integration-2.16-N.log.
set -euo pipefail
. "$(dirname "$0")/setup.sh"

set +e
. "$REPO/scripts/setup-ansible-2.16.sh"
rc=$?
set -e
if [[ $rc -eq 3 ]]; then
    echo "ansible-core 2.16: skipped (no Python 3.10-3.12 for ansible-core 2.16; see above)"
    exit 0
elif [[ $rc -ne 0 ]]; then
    echo "ansible-core 2.16: 0 passed, 1 failed (setting up .venv-2.16 failed)"
    exit 1
fi

build_collection_tree "$BUILD_DIR/collections-2.16"
read -r -a pytest_args <<<"${PYTEST_ARGS:-}"
read -r -a integration_args <<<"${INTEGRATION_ARGS:-}"
PY216="$("$VENV_216/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
jiraops_log "ansible-core $("$VENV_216/bin/python" -c 'from ansible.release import __version__; print(__version__)'), Python $PY216"
passed=0 failed=0

# The unit tests run while ansible-test runs the targets (each waits mostly on its own subprocesses); their output
# follows the integration output.
start=$SECONDS
junit="$BUILD_DIR/pytest-2.16-junit.xml" unit_log="$BUILD_DIR/pytest-2.16.log"
rm -f "$junit"
(cd "$COLLECTION_DIR" && JIRAOPS_COLLECTIONS_ROOT="$ANSIBLE_COLLECTIONS_PATH" \
    "$VENV_216/bin/python" -m pytest -c tests/pytest.ini tests/unit -q -p no:cacheprovider --junitxml="$junit" \
    "${pytest_args[@]}" >"$unit_log" 2>&1) &
unit_pid=$!

# The targets at the default verbosity (the -vvvv secret scan is the newest core's stage), in groups side by side
# like scripts/test.sh's (jiraops_integration_groups). The emulator stays on the newest Python (.venv):
# tests/reliability/secret_scan.py run hosts one per group; only the collection and Ansible run on 2.16.
targets=$(find "$COLLECTION_DIR/tests/integration/targets" -mindepth 1 -maxdepth 1 -type d | wc -l)
integration_group_216() {  # integration_group_216 INDEX TARGET...
    local i=$1
    shift
    "$VENV/bin/python" "$COLLECTION_DIR/tests/reliability/secret_scan.py" run \
        --config tests/integration/integration_config.yml --log "$BUILD_DIR/integration-2.16-$i.log" \
        --result "$BUILD_DIR/integration-2.16-$i.json" -- env PATH="$VENV_216/bin:$PATH" VIRTUAL_ENV="$VENV_216" \
        ansible-test integration --local --python "$PY216" --color no "${integration_args[@]}" "$@"
}
rc=0
jiraops_integration_groups integration-2.16 integration_group_216 || rc=1
if [[ $rc -eq 0 ]]; then passed=$((passed + targets)); else failed=$((failed + 1)); fi
jiraops_log "ansible-core 2.16: integration ($targets targets) $([[ $rc -eq 0 ]] && echo passed || echo failed) in $((SECONDS - start)) s"

set +e
wait "$unit_pid"
rc=$?
set -e
cat "$unit_log"
read -r p f < <(jiraops_junit_counts "$VENV_216/bin/python" "$junit")
# 5: the -k of PYTEST_ARGS selected nothing, which is no failure of the collection.
if [[ $rc -ne 0 && $rc -ne 5 && $f -eq 0 ]]; then f=1; fi
passed=$((passed + p)) failed=$((failed + f))
jiraops_log "ansible-core 2.16: unit tests $p passed, $f failed (alongside the targets; $((SECONDS - start)) s for both)"

echo "ansible-core 2.16: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
