#!/usr/bin/env bash
# Fuzzes a fresh `boxup serve` with schemathesis, driven by the server's own
# OpenAPI document (/openapi.json): generated requests to every documented
# operation must never answer 5xx, and every answer must match the document
# (an error answer: Box's error object, `ClientError`, or at the OAuth
# endpoints OAuth's `OAuth2Error`).
#
#   tests/schemathesis/run.sh [extra `st run` arguments]
#
# Environment:
#   BOXUP_BIN          the server binary (default: `cargo build -p boxup`)
#   ST_MAX_EXAMPLES    test cases per operation (default 50; about 20 s)
#   ST_SEED            hypothesis seed (default 20260101), for reproducible runs
#   PYTHON             the interpreter the virtualenv is made with (python3)
#
# The virtualenv (target/schemathesis-venv) is made from requirements.txt
# and reused while that file and the interpreter are unchanged. The server's
# data dir and log live in a temp dir removed at exit; the log's tail is
# printed when the run failed. The exit status is schemathesis's.
set -euo pipefail
exec </dev/null

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
say() { echo "schemathesis: $*" >&2; }
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

# 1. The virtualenv, made once per requirements file and interpreter.
# shellcheck source=../lib/interop_venv.sh
source "$ROOT/tests/lib/interop_venv.sh"
if ! pinned_venv schemathesis "$ROOT/target/schemathesis-venv" "$HERE/requirements.txt"; then
    say "cannot install tests/schemathesis/requirements.txt (see pip's error above)"
    exit 3
fi

# 2. The server: port 0, its address read from `boxup serving on ADDR`.
if [[ -z "${BOXUP_BIN:-}" ]]; then
    say "cargo build -p boxup"
    cargo build -p boxup >&2
    target_dir="$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    BOXUP_BIN="$target_dir/debug/boxup"
fi
[[ -x "$BOXUP_BIN" ]] || { say "BOXUP_BIN=$BOXUP_BIN is not an executable file"; exit 2; }
say "server binary $BOXUP_BIN"

work_dir="$(mktemp -d -t boxup-schemathesis.XXXXXX)"
server_log_tail() { test_server_log_tail schemathesis "$work_dir"; }
start_test_server schemathesis "$work_dir" \
    --token schemathesis-token=alice --min-chunked-size 1 --part-size 1048576 \
    --shutdown-grace 2s || exit 2
url="$SERVER_URL"

# 3. The fuzzing run: bounded and seeded, one worker (2-core CI). Every
# phase, named so that a change of schemathesis's defaults cannot drop one:
# the stateful phase chains requests along the document's links (a new
# folder's, session's or file's id into the operations on it). hooks.py
# makes half of the generated creations name the root folder, so that
# there are new items to chain.
set +e
PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks \
"$VENV/bin/st" run "$url/openapi.json" \
    --header "Authorization: Bearer schemathesis-token" \
    --phases examples,coverage,fuzzing,stateful \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "${ST_MAX_EXAMPLES:-50}" \
    --seed "${ST_SEED:-20260101}" \
    --generation-database none \
    --workers 1 \
    --request-timeout 30 \
    --no-color \
    "$@"
rc=$?
set -e
if ((rc != 0)); then server_log_tail; fi
exit "$rc"
