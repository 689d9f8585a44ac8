#!/usr/bin/env bash
# scripts/demo.sh -- set everything up on a fresh machine and run the demo playbook (demo/demo.yml) against the
# Jira emulator.
#   scripts/demo.sh [extra ansible-playbook args, e.g. -v]
# The emulator listens on a free loopback port and stops when the demo ends; keys land in .build/demo/.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
. "$REPO/scripts/emulator.sh"
build_collection_tree
emulator_start
export JIRA_URL="$JIRA_EMULATOR_URL" JIRA_API_URL="$JIRA_EMULATOR_URL" JIRA_AUTH_URL="$JIRA_EMULATOR_URL"
# The emulator's seeded demo users; real credentials would come from a vault or AWX credential instead.
export JIRA_USERNAME=alice JIRA_PASSWORD=alice-password JIRAOPS_DEMO_PAT=alice-pat-0123456789abcdef
export JIRAOPS_DEMO_DIR="$BUILD_DIR/demo" ANSIBLE_STDOUT_CALLBACK="${ANSIBLE_STDOUT_CALLBACK:-default}"
ansible-playbook -i "$REPO/playbooks/inventory/localhost.yml" "$REPO/demo/demo.yml" "$@"
requests=$(curl -s "$JIRA_EMULATOR_URL/_emulator/requests" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["count"])')
jiraops_log "demo done: the emulator answered $requests request(s); keys are in $JIRAOPS_DEMO_DIR/keys"
