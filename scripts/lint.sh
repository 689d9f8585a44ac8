#!/usr/bin/env bash
# scripts/lint.sh -- ansible-lint (profile: production, offline) over the roles, playbooks and metadata.
#
# Usage:  scripts/lint.sh [extra ansible-lint args or paths]
# Config: .ansible-lint at the repo root (profile, offline, exclude_paths). Runs from the repo root, so the paths
#         it reports are the repo's; jiraops.integration.* names resolve through ANSIBLE_COLLECTIONS_PATH, which
#         points at a fresh copy of the collection of its own (.build/lint/collections: it never clobbers the copy
#         of a concurrent scripts/test.sh). Succeeds when there is nothing to lint. Exit status is ansible-lint's.

set -euo pipefail

# shellcheck source=scripts/setup.sh
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
LINT_DIR="$BUILD_DIR/lint"
mkdir -p "$LINT_DIR"
exec 8>"$LINT_DIR/lock"
flock 8
build_collection_tree "$LINT_DIR/collections"

t0=$SECONDS
cd "$REPO"
cmd=(ansible-lint --offline --config-file "$REPO/.ansible-lint")
[[ -t 1 ]] || cmd+=(--nocolor)
cmd+=("$@")
jiraops_log "lint: (cd $REPO && ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH ${cmd[*]})"
set +e
"${cmd[@]}"
rc=$?
set -e
jiraops_log "lint: exit $rc in $((SECONDS - t0)) s"
exit "$rc"
