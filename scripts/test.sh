#!/usr/bin/env bash
# scripts/test.sh -- run every test of the collection on this machine; .ci/run calls it.
#
#   scripts/test.sh            everything: pytest (unit + functional, emulator over real HTTP),
#                              ansible-test integration (playbooks against the emulator), the unit tests
#                              and targets again on ansible-core 2.16 / Python 3.11 (scripts/test-ansible-2.16.sh),
#                              the roles' Molecule scenarios (scripts/molecule.sh), sanity, ansible-lint,
#                              docs-lint (antsibull-docs + antsibull-changelog lint)
#   scripts/test.sh --quick    for iterating (aim: under 2 minutes on two idle cores): what a change to a module
#                              or module_utils needs checked at once -- tests/unit, emulator/tests, the functional
#                              tests not marked slow (no ansible-playbook process), and every integration target
#                              at -vvvv with its secret scan (the modules as Ansible runs them, and no secret in
#                              the output). Left to the full run: the reliability and ops suites, the slow
#                              (playbook-running) functional tests, ansible-core 2.16, Molecule, sanity, lint.
#   PYTEST_ARGS="-k client" scripts/test.sh --quick
#
# Sets up .venv itself (scripts/setup.sh), copies the collection into .build/collections/ansible_collections/...
# (ansible-test needs that layout), starts the emulator on a free loopback port, and ends with each stage's count
# and time, the whole run's time ("all stages") and one line "total: N passed, N failed" counting pytest tests,
# integration targets, Molecule scenarios and static checks.
# Env: PYTEST_ARGS, INTEGRATION_ARGS (extra arguments; INTEGRATION_ARGS makes the integration stage one run),
#      JIRAOPS_PYTEST_WORKERS (default 2), JIRAOPS_INTEGRATION_GROUPS (targets run in this many groups side by
#      side, default 2; 1 when the cores are busy with other work).
set -euo pipefail
. "$(dirname "$0")/setup.sh"

quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

passed=0
failed=0
summary=()
record() {  # record NAME PASSED FAILED SECONDS
    passed=$((passed + $2))
    failed=$((failed + $3))
    summary+=("$(printf '%-22s %4d passed %3d failed %5ss' "$1" "$2" "$3" "$4")")
}

build_collection_tree
read -r -a pytest_args <<<"${PYTEST_ARGS:-}"
read -r -a integration_args <<<"${INTEGRATION_ARGS:-}"
PYV="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# 1. pytest: unit and functional tests and the emulator package's own (emulator/tests), run from the copied tree
#    so imports resolve exactly as ansible does, on JIRAOPS_PYTEST_WORKERS pytest-xdist workers (default 2; 0 runs
#    them in this process). Each worker has its own emulator and OpenBao server (session fixtures on free ports);
#    the workers' reliability figures are merged.
#    --quick: tests/unit and the functional tests not marked slow (no ansible-playbook runs, no reliability or ops
#    suites).
start=$SECONDS
junit="$BUILD_DIR/pytest-junit.xml"
rm -f "$junit"
pytest_paths=(tests emulator/tests)
[[ $quick -eq 1 ]] && pytest_paths=(tests/unit emulator/tests tests/functional -m "not slow")
set +e
(cd "$COLLECTION_DIR" && JIRAOPS_COLLECTIONS_ROOT="$ANSIBLE_COLLECTIONS_PATH" \
    "$VENV/bin/python" -m pytest -c tests/pytest.ini "${pytest_paths[@]}" -q -p no:cacheprovider \
    -n "${JIRAOPS_PYTEST_WORKERS:-2}" --dist loadgroup --junitxml="$junit" "${pytest_args[@]}")
rc=$?
set -e
read -r p f < <(jiraops_junit_counts "$VENV/bin/python" "$junit")
if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
record pytest "$p" "$f" $((SECONDS - start))

# 2. ansible-test integration: the playbook targets against a live emulator, run once at -vvvv through
#    tests/reliability/secret_scan.py, which hosts the emulator (harvesting every secret it sees), keeps the whole
#    output in .build/integration-vvvv-N.log and scans it per target; the "secret scan" stage checks that result.
#    One ansible-playbook keeps about one core busy, so the targets run in JIRAOPS_INTEGRATION_GROUPS groups
#    (default 2; 1 runs them one after another) side by side, each with its own emulator and copy of the collection
#    (jiraops_integration_groups, scripts/lib.sh). INTEGRATION_ARGS (targets or options) makes it one run.
start=$SECONDS
targets=$(find "$COLLECTION_DIR/tests/integration/targets" -mindepth 1 -maxdepth 1 -type d | wc -l)
rm -f "$BUILD_DIR"/secret-scan*.json "$BUILD_DIR"/integration-vvvv*.log
integration_group() {  # integration_group INDEX TARGET...: one group's run, from its copy of the collection
    local i=$1
    shift
    "$VENV/bin/python" "$COLLECTION_DIR/tests/reliability/secret_scan.py" run \
        --config tests/integration/integration_config.yml --log "$BUILD_DIR/integration-vvvv-$i.log" \
        --result "$BUILD_DIR/secret-scan-$i.json" -- ansible-test integration --local --python "$PYV" --color no -vvvv \
        "${integration_args[@]}" "$@"
}
rc=0
jiraops_integration_groups integration integration_group || rc=1
scan_results=()
for i in "${!JIRAOPS_GROUPS[@]}"; do scan_results+=("$BUILD_DIR/secret-scan-$i.json"); done
if [[ $rc -eq 0 ]]; then record integration "$targets" 0 $((SECONDS - start)); else record integration 0 1 $((SECONDS - start)); fi

# 2b. The secret scan of those runs: fails when a result is missing, a target's -vvvv output is missing or thin
#     (every target when INTEGRATION_ARGS selects none), or a secret leaked; one count per target.
start=$SECONDS
scan_args=()
[[ ${#integration_args[@]} -eq 0 ]] && scan_args=(--targets "$COLLECTION_DIR/tests/integration/targets")
set +e
scan_out="$("$VENV/bin/python" "$COLLECTION_DIR/tests/reliability/secret_scan.py" check "${scan_results[@]}" "${scan_args[@]}")"
rc=$?
set -e
printf '%s\n' "$scan_out"
read -r p f < <(sed -n 's/^secret scan: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' <<<"$scan_out")
p=${p:-0} f=${f:-0}
if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
record "secret scan" "$p" "$f" $((SECONDS - start))

# A stage run by its own script, whose last line "<label>: N passed, N failed" (or "<label>: skipped (why)") counts.
run_counted() {  # run_counted LABEL SCRIPT LOG
    local start=$SECONDS rc line p f
    set +e
    bash "$REPO/scripts/$2" 2>&1 | tee "$BUILD_DIR/$3"
    rc=${PIPESTATUS[0]}
    set -e
    line="$(grep "^$1: " "$BUILD_DIR/$3" | tail -n 1)"
    if [[ "$line" == "$1: skipped"* ]]; then
        summary+=("$(printf '%-22s %s %5ss' "$1" "${line#"$1": }" $((SECONDS - start)))")
        return
    fi
    read -r p f < <(sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed\$/\1 \2/p" <<<"$line")
    p=${p:-0} f=${f:-0}
    if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
    record "$1" "$p" "$f" $((SECONDS - start))
}

# 3. The unit tests and integration targets again on ansible-core 2.16 (Python 3.11), the oldest core that
#    requires_ansible admits (scripts/test-ansible-2.16.sh); skipped, saying why, only without such a Python.
# 4. Molecule: one scenario per role against its own emulator (scripts/molecule.sh), each counted.
# 5. Static checks (sanity, lint, docs-lint), one after another, side by side with stages 3 and 4: they keep
#    about one core busy, as Molecule does, and each works in its own tree under .build/ (sanity/, lint/,
#    docs-lint/). Their output goes to .build/<check>.log and is printed when the check fails.
if [[ $quick -eq 0 ]]; then
    static_start=$SECONDS
    rm -f "$BUILD_DIR/static-checks.status"
    (
        for check in sanity lint docs-lint; do
            start=$SECONDS
            if bash "$REPO/scripts/$check.sh" >"$BUILD_DIR/$check.log" 2>&1; then rc=0; else rc=$?; fi
            echo "$check $rc $((SECONDS - start))" >>"$BUILD_DIR/static-checks.status"
        done
    ) &
    static_pid=$!
    run_counted "ansible-core 2.16" test-ansible-2.16.sh ansible-2.16.log
    run_counted molecule molecule.sh molecule.log
    wait "$static_pid" || true
    for check in sanity lint docs-lint; do
        read -r _name rc secs < <(grep "^$check " "$BUILD_DIR/static-checks.status" 2>/dev/null || echo "$check 1 $((SECONDS - static_start))")
        if [[ $rc -eq 0 ]]; then
            record "$check" 1 0 "$secs"
        else
            echo "== $check failed (exit $rc); its output (.build/$check.log):"
            tail -n 80 "$BUILD_DIR/$check.log" 2>/dev/null || true
            record "$check" 0 1 "$secs"
        fi
    done
fi

echo
echo "== jiraops.integration test summary =="
printf '%s\n' "${summary[@]}"
printf '%-22s %28s %5ss\n' "all stages" "" "$SECONDS"
echo "total: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
