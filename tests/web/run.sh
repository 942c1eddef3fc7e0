#!/usr/bin/env bash
# Runs the web tests: boxup's page in Debian's headless Chromium, driven by
# playwright-core from Node's built-in test runner, against a fresh
# `boxup serve`.
#
#   tests/web/run.sh                           # every tests/web/*.test.mjs
#   tests/web/run.sh tests/web/smoke.test.mjs  # these files only
#   tests/web/run.sh --test-name-pattern=upload
#
# Arguments go to `node --test`; those not starting with '-' are the test
# files (default: tests/web/*.test.mjs).
#
# Environment:
#   BOXUP_BIN   the server binary (default: `cargo build -p boxup`, a debug build)
#   BOXUP_URL   test this already running server instead of starting one (it
#               must accept the tokens webtest-token for alice and other-token
#               for bob, or BOXUP_TOKEN and BOXUP_OTHER_TOKEN set to its own)
#   WEB_ARTIFACTS  where screenshots go (default: target/web-artifacts,
#               emptied at the start of each run)
#   CHROMIUM    the browser (default /usr/bin/chromium, installed if missing)
#
# tests/web/install.sh installs Chromium and playwright-core first (once).
# The server's data dir and log live in a temp dir removed at exit; the log's
# tail is printed when a test failed. The exit status is node's.
set -euo pipefail
exec </dev/null

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
say() { echo "web: $*" >&2; }
cd "$ROOT"

# shellcheck source=../lib/test_server.sh
source "$ROOT/tests/lib/test_server.sh"
work_dir="" server_pid=""
finish() {
    local rc=$?
    stop_test_server "$work_dir"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. Chromium and playwright-core.
WEB_NODE_DIR="$(bash "$HERE/install.sh")"
export WEB_NODE_DIR

# 2. The server.
work_dir="$(mktemp -d -t boxup-web.XXXXXX)"
wait_healthy() { # URL PID-or-empty: polls URL/healthz, bounded, no fixed sleep
    local url=$1 pid=$2 deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        if curl -fsS -o /dev/null --max-time 2 "$url/healthz" 2>/dev/null; then
            return 0
        fi
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.1
    done
    return 1
}
server_log_tail() { test_server_log_tail web "$work_dir"; }

if [[ -n "${BOXUP_URL:-}" ]]; then
    BOXUP_URL="${BOXUP_URL%/}"
    say "testing the server already running at $BOXUP_URL"
    wait_healthy "$BOXUP_URL" "" || { say "$BOXUP_URL/healthz does not answer"; exit 2; }
else
    if [[ -z "${BOXUP_BIN:-}" ]]; then
        say "cargo build -p boxup"
        cargo build -p boxup >&2
        target_dir="$(cargo metadata --format-version 1 --no-deps |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
        BOXUP_BIN="$target_dir/debug/boxup"
    fi
    [[ -x "$BOXUP_BIN" ]] || { say "BOXUP_BIN=$BOXUP_BIN is not an executable file"; exit 2; }
    say "server binary $BOXUP_BIN"
    # Tests that need a server of their own (one with a development token) start it.
    export BOXUP_BIN

    start_test_server web "$work_dir" \
        --token webtest-token=alice --token other-token=bob --shutdown-grace 2s || exit 2
    BOXUP_URL="$SERVER_URL"
    export BOXUP_TOKEN=webtest-token BOXUP_OTHER_TOKEN=other-token
fi
export BOXUP_URL
export BOXUP_TOKEN="${BOXUP_TOKEN:-webtest-token}"
export BOXUP_OTHER_TOKEN="${BOXUP_OTHER_TOKEN:-other-token}"

# 3. Screenshots.
if [[ -z "${WEB_ARTIFACTS:-}" ]]; then
    WEB_ARTIFACTS="$ROOT/target/web-artifacts"
    rm -rf "$WEB_ARTIFACTS"
fi
mkdir -p "$WEB_ARTIFACTS"
WEB_ARTIFACTS="$(cd "$WEB_ARTIFACTS" && pwd)"
export WEB_ARTIFACTS
say "screenshots in $WEB_ARTIFACTS"

# 4. The tests, one file at a time (they share one server).
node_args=() files=()
for arg in "$@"; do
    if [[ "$arg" == -* ]]; then node_args+=("$arg"); else files+=("$arg"); fi
done
if ((${#files[@]} == 0)); then
    shopt -s nullglob
    files=("$HERE"/*.test.mjs)
    shopt -u nullglob
    ((${#files[@]} > 0)) || { say "no tests/web/*.test.mjs"; exit 2; }
fi
set +e
node --test --test-concurrency=1 "${node_args[@]}" "${files[@]}"
rc=$?
set -e
if ((rc != 0)) && [[ -n "$server_pid" ]]; then server_log_tail; fi
# Secrets are never logged: after every page above has signed in, uploaded
# and downloaded, the server's log holds neither user's token.
if [[ -n "$server_pid" ]] && grep -qF -e "$BOXUP_TOKEN" -e "$BOXUP_OTHER_TOKEN" "$work_dir/server.log"; then
    say "a token appears in boxup serve's log"
    grep -nF -e "$BOXUP_TOKEN" -e "$BOXUP_OTHER_TOKEN" "$work_dir/server.log" | head -5 >&2
    rc=1
fi
exit "$rc"
