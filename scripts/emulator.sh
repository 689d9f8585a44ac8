# shellcheck shell=bash
# scripts/emulator.sh -- start/stop the Jira emulator in the background for scripts (source it after setup.sh).
#   emulator_start   starts it on a free loopback port, exports JIRA_EMULATOR_URL, stops it on EXIT
#   emulator_stop    stops it

emulator_start() {
    local url_file="$BUILD_DIR/emulator.url"
    mkdir -p "$BUILD_DIR"
    rm -f "$url_file"
    "$VENV/bin/jira-emulator" --port 0 --url-file "$url_file" >"$BUILD_DIR/emulator.log" 2>&1 &
    EMULATOR_PID=$!
    trap emulator_stop EXIT
    for _ in $(seq 1 100); do
        if [[ -s "$url_file" ]]; then break; fi
        if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
            jiraops_log "the emulator did not start; its log:"
            cat "$BUILD_DIR/emulator.log" >&2
            return 1
        fi
        sleep 0.1
    done
    JIRA_EMULATOR_URL="$(cat "$url_file")"
    export JIRA_EMULATOR_URL EMULATOR_PID
    jiraops_log "Jira emulator listening on $JIRA_EMULATOR_URL (log: $BUILD_DIR/emulator.log)"
}

emulator_stop() {
    if [[ -n "${EMULATOR_PID:-}" ]] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
        kill "$EMULATOR_PID" 2>/dev/null || true
        wait "$EMULATOR_PID" 2>/dev/null || true
    fi
    EMULATOR_PID=
}
