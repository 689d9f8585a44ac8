# shellcheck shell=bash
# scripts/lib.sh -- shared variables and functions for the jiraops.integration dev/CI scripts.
#
# Usage (from bash; sourcing has no side effects besides the variables/functions below):
#     . scripts/lib.sh
#
# Most callers want `. scripts/setup.sh` instead: it sources this file, makes sure .venv is bootstrapped
# (fast no-op when up to date) and activates it.
#
# Variables (exported):
#   REPO          absolute path of the repository root (= collection root)
#   VENV          $REPO/.venv, the dev/test virtualenv created by scripts/setup.sh
#   BUILD_DIR     $REPO/.build, scratch space (git-ignored, galaxy build_ignore'd)
#   COLLECTION_NAMESPACE, COLLECTION_NAME   read from galaxy.yml (jiraops / integration)
# After jiraops_activate (done by `. scripts/setup.sh`):
#   PATH          $VENV/bin prepended;  VIRTUAL_ENV=$VENV
#   ANSIBLE_HOME  $REPO/.build/ansible-home (keeps ansible's tmp/cache out of ~/.ansible)
# After build_collection_tree:
#   ANSIBLE_COLLECTIONS_PATH  $REPO/.build/collections
#   COLLECTION_DIR            $REPO/.build/collections/ansible_collections/jiraops/integration
#
# Functions:
#   jiraops_activate          export PATH/VIRTUAL_ENV/ANSIBLE_HOME for $VENV
#   build_collection_tree [ROOT]  fresh copy of tracked + untracked-not-ignored files into $COLLECTION_DIR
#                             = ROOT/ansible_collections/NS/NAME, ROOT defaulting to $BUILD_DIR/collections
#                             (scripts/sanity.sh uses its own ROOT, so it never clobbers a caller's copy)
#                             (ansible-test needs the real ansible_collections/NS/NAME layout; symlinks don't work).
#                             The copy gets its own empty `git init` (see below); run ansible-test from inside it.
#   jiraops_log MSG...        print "[jiraops] MSG" to stderr
#   jiraops_junit_counts PYTHON FILE   print "PASSED FAILED" from a pytest --junitxml file ("0 1" if unreadable)

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="$REPO/.venv"
BUILD_DIR="$REPO/.build"
COLLECTION_NAMESPACE="$(sed -n 's/^namespace:[[:space:]]*//p' "$REPO/galaxy.yml" 2>/dev/null | tr -d "\"' \r")"
COLLECTION_NAME="$(sed -n 's/^name:[[:space:]]*//p' "$REPO/galaxy.yml" 2>/dev/null | tr -d "\"' \r")"
: "${COLLECTION_NAMESPACE:=jiraops}" "${COLLECTION_NAME:=integration}"
export REPO VENV BUILD_DIR COLLECTION_NAMESPACE COLLECTION_NAME

jiraops_log() {
    printf '[jiraops] %s\n' "$*" >&2
}

jiraops_activate() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        jiraops_log "no virtualenv at $VENV: run scripts/setup.sh first"
        return 1
    fi
    case ":$PATH:" in
        *":$VENV/bin:"*) ;;
        *) PATH="$VENV/bin:$PATH" ;;
    esac
    VIRTUAL_ENV="$VENV"
    ANSIBLE_HOME="$BUILD_DIR/ansible-home"
    mkdir -p "$ANSIBLE_HOME"
    export PATH VIRTUAL_ENV ANSIBLE_HOME
}

# Copy the files git knows about (tracked, plus untracked files that are not ignored) into
# ROOT/ansible_collections/NS/NAME (ROOT: $1, default $BUILD_DIR/collections), removing any previous copy first.
build_collection_tree() {
    local root="${1:-$BUILD_DIR/collections}"
    local dest="$root/ansible_collections/$COLLECTION_NAMESPACE/$COLLECTION_NAME"
    rm -rf "$dest"
    mkdir -p "$dest"
    # Tracked files deleted in the work tree are still listed by `git ls-files -c`: drop them, or tar fails.
    (
        set -o pipefail
        cd "$REPO" &&
            git ls-files -z -co --exclude-standard |
            while IFS= read -r -d '' f; do
                if [[ -e "$f" || -L "$f" ]]; then printf '%s\0' "$f"; fi
            done |
            tar --null --no-recursion -T - -cf - |
            tar -xf - -C "$dest"
    ) || {
        jiraops_log "build_collection_tree: copying $REPO to $dest failed"
        return 1
    }
    # ansible-test finds its file list through the nearest .git upwards: without one here it would use the outer
    # repo's, which ignores .build/, and skip every target. An empty repo (nothing committed) is enough: it lists
    # untracked-not-ignored files, and the copied .gitignore keeps tests/output/ out.
    git -C "$dest" -c init.defaultBranch=main init -q || {
        jiraops_log "build_collection_tree: git init in $dest failed"
        return 1
    }
    ANSIBLE_COLLECTIONS_PATH="$root"
    COLLECTION_DIR="$dest"
    export ANSIBLE_COLLECTIONS_PATH COLLECTION_DIR
}

jiraops_junit_counts() {
    "$1" - "$2" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1); sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skip = sum(int(s.get("skipped", 0)) for s in suites)
print(t - bad - skip, bad)
PY
}

# jiraops_integration_groups TAG FUNCTION: run FUNCTION once per group of integration targets, the groups side by
# side (one ansible-playbook keeps about one core busy). The groups come from `secret_scan.py groups`
# (JIRAOPS_INTEGRATION_GROUPS, default 2; 1 runs every target in one run); with INTEGRATION_ARGS set there is one
# run, which they select. FUNCTION runs in a subshell, from its own copy of the collection (the first group in
# $COLLECTION_DIR, the others in $BUILD_DIR/TAG-N/collections: ansible-test writes into tests/output), as
# FUNCTION INDEX TARGET...; its output goes to $BUILD_DIR/TAG-INDEX.out, printed group by group once all ended.
# Sets JIRAOPS_GROUPS (the groups' targets, one string each); returns non-zero if any run failed.
jiraops_integration_groups() {
    local tag=$1 fn=$2 i rc=0 start=$SECONDS
    local -a pids=()
    JIRAOPS_GROUPS=("")
    if [[ -z "${INTEGRATION_ARGS:-}" ]]; then
        mapfile -t JIRAOPS_GROUPS < <("$VENV/bin/python" "$COLLECTION_DIR/tests/reliability/secret_scan.py" groups \
            "$COLLECTION_DIR/tests/integration/targets" "${JIRAOPS_INTEGRATION_GROUPS:-2}")
    fi
    # Every ansible-test run makes the user's SSH key pair (~/.ansible/test/id_rsa) when it is missing; runs started
    # side by side on a fresh machine race to make it, and the loser's ssh-keygen stops at "Overwrite (y/n)?". So
    # it is made here first, as ansible-test makes it, before the groups start.
    if [[ ${#JIRAOPS_GROUPS[@]} -gt 1 && ! -f ~/.ansible/test/id_rsa ]]; then
        mkdir -p ~/.ansible/test
        ssh-keygen -m PEM -q -t rsa -N '' -f ~/.ansible/test/id_rsa
    fi
    for i in "${!JIRAOPS_GROUPS[@]}"; do
        (
            set -e
            [[ $i -eq 0 ]] || build_collection_tree "$BUILD_DIR/$tag-$i/collections"
            read -r -a group <<<"${JIRAOPS_GROUPS[$i]}"
            cd "$COLLECTION_DIR"
            "$fn" "$i" "${group[@]}" && group_rc=0 || group_rc=$?
            jiraops_log "$tag group $((i + 1)) (${group[*]:-INTEGRATION_ARGS=${INTEGRATION_ARGS:-}}): exit $group_rc in $((SECONDS - start)) s"
            exit "$group_rc"
        ) >"$BUILD_DIR/$tag-$i.out" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || rc=1
        echo "== $tag group $((i + 1))/${#pids[@]}: ${JIRAOPS_GROUPS[$i]:-INTEGRATION_ARGS=${INTEGRATION_ARGS:-}}"
        cat "$BUILD_DIR/$tag-$i.out"
    done
    return "$rc"
}
