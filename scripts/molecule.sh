#!/usr/bin/env bash
# scripts/molecule.sh -- run the roles' Molecule scenarios (extensions/molecule/<role>/) against the Jira emulator.
#
#   scripts/molecule.sh                 every scenario
#   scripts/molecule.sh report_build    the named scenarios only
#
# Copies the collection into .build/collections (so jiraops.integration.* resolves to the code under test), starts
# the emulator on a free loopback port (JIRA_EMULATOR_URL, which the scenarios' molecule.yml read), then runs
# `molecule test -s <scenario>` for each one: syntax, prepare, converge, idempotence, verify, cleanup
# (see docs/molecule.md). Ends with "molecule: N passed, N failed" and exits non-zero if any scenario failed.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
. "$REPO/scripts/emulator.sh"

build_collection_tree
emulator_start
# Molecule keeps each scenario's state (for example "prepared") under $ANSIBLE_HOME/tmp: start from none, so that
# prepare always runs.
ANSIBLE_HOME="$BUILD_DIR/molecule-home"
rm -rf "$ANSIBLE_HOME"
mkdir -p "$ANSIBLE_HOME"
export ANSIBLE_HOME

scenarios=("$@")
if [[ ${#scenarios[@]} -eq 0 ]]; then
    while IFS= read -r file; do
        scenarios+=("$(basename "$(dirname "$file")")")
    done < <(find "$COLLECTION_DIR/extensions/molecule" -mindepth 2 -maxdepth 2 -name molecule.yml | sort)
fi

passed=0
failed=0
for scenario in "${scenarios[@]}"; do
    start=$SECONDS
    if (cd "$COLLECTION_DIR" && molecule test -s "$scenario"); then
        passed=$((passed + 1))
        jiraops_log "molecule scenario $scenario passed in $((SECONDS - start)) s"
    else
        failed=$((failed + 1))
        jiraops_log "molecule scenario $scenario FAILED in $((SECONDS - start)) s"
    fi
done
echo "molecule: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
