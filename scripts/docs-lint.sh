#!/usr/bin/env bash
# scripts/docs-lint.sh -- documentation and changelog checks, offline.
#
# Usage:  scripts/docs-lint.sh
#   1. antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs self: every plugin's and role's
#      docs build as RST, match the schema (attributes, semantic markup O()/V()/RV()/E()) and M()/O() references to
#      this collection's own plugins resolve.
#   2. antsibull-changelog lint: every fragment in changelogs/fragments/ is valid (sections, YAML, RST).
# Runs on a fresh copy of the collection in .build/docs-lint/collections (the ansible_collections/NS/NAME layout the
# linter needs), so it never clobbers the copy of a concurrent scripts/test.sh. Exit status: non-zero if either fails.

set -euo pipefail

# shellcheck source=scripts/setup.sh
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
DOCS_DIR="$BUILD_DIR/docs-lint"
mkdir -p "$DOCS_DIR"
exec 8>"$DOCS_DIR/lock"
flock 8
build_collection_tree "$DOCS_DIR/collections"

t0=$SECONDS
rc=0
cd "$COLLECTION_DIR"
jiraops_log "docs-lint: antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs self"
antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs self . || rc=1
jiraops_log "docs-lint: antsibull-changelog lint"
antsibull-changelog lint || rc=1
jiraops_log "docs-lint: exit $rc in $((SECONDS - t0)) s"
exit "$rc"
