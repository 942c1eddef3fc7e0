# Sourced by the suites that drive a real `boxup serve` (the web page, the
# schemathesis run): starts one on a port the OS picks and waits until it
# answers, and stops it again (stop_test_server, below).
#
#   start_test_server NAME WORK_DIR [SERVE_ARGS...]
#
# Runs "$BOXUP_BIN" serve --bind 127.0.0.1:0 --data-dir WORK_DIR/data
# SERVE_ARGS, with none of the caller's BOXUP_* variables (only the command
# line configures the server under test), stdout in WORK_DIR/server.out and
# stderr in WORK_DIR/server.log. Sets `server_pid` as soon as the server
# runs, so that the caller's EXIT trap can stop it, then waits (polled,
# bounded to 60 s each; no fixed sleep) for `boxup serving on ADDR` and for
# /healthz. Sets SERVER_URL; on failure prints why and the log's tail
# (prefixed with NAME) and returns 2.
start_test_server() {
    local who=$1 work=$2 addr="" deadline status
    shift 2
    local unset_boxup=()
    while read -r name; do unset_boxup+=(-u "$name"); done < <(compgen -e | grep '^BOXUP_' || true)
    env "${unset_boxup[@]}" RUST_LOG="${RUST_LOG:-info}" NO_COLOR=1 \
        "$BOXUP_BIN" serve --bind 127.0.0.1:0 --data-dir "$work/data" "$@" \
        >"$work/server.out" 2>"$work/server.log" &
    server_pid=$!
    deadline=$((SECONDS + 60))
    while [[ -z "$addr" ]] && ((SECONDS < deadline)); do
        addr="$(sed -n '/^boxup serving on /{s///p;q}' "$work/server.out")"
        [[ -n "$addr" ]] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z "$addr" ]]; then
        if kill -0 "$server_pid" 2>/dev/null; then
            echo "$who: boxup serve did not print its address within 60 s" >&2
        else
            wait "$server_pid" && status=0 || status=$?
            echo "$who: boxup serve exited with status $status at start-up" >&2
        fi
        test_server_log_tail "$who" "$work"
        return 2
    fi
    SERVER_URL="http://$addr"
    deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        if curl -fsS -o /dev/null --max-time 2 "$SERVER_URL/healthz" 2>/dev/null; then
            echo "$who: boxup serve is up at $SERVER_URL" >&2
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$who: boxup serve at $SERVER_URL never answered /healthz" >&2
    test_server_log_tail "$who" "$work"
    return 2
}

# For the caller's EXIT trap: stops the server start_test_server started,
# if it still runs, and removes WORK_DIR, if given.
#
#   stop_test_server [WORK_DIR]
stop_test_server() {
    if [[ -n "${server_pid:-}" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n "${1:-}" ]]; then rm -rf "$1"; fi
}

# The last 40 lines of a test server's log, on stderr.
test_server_log_tail() {
    if [[ -f "$2/server.log" ]]; then
        echo "$1: boxup serve's log (last 40 lines):" >&2
        tail -n 40 "$2/server.log" >&2
    fi
}
