# shellcheck shell=bash
# Helpers of checks.sh (sourced): running rclone against the `box` remote,
# observing the server through boxapi.py, and recording each check.
#
# A check is a function that returns normally; each failed expectation
# calls `fail REASON` (which returns 1, so `cmd || fail ...` reads well).
# `run_check NAME FUNCTION` runs it, then records `PASS NAME` or
# `FAIL NAME: first reason` in the results file, and for a failure prints
# every reason and an excerpt of the evidence: rclone's error lines, each
# HTTP exchange of rclone's (`--dump headers,responses`) that got a 4xx/5xx,
# with the response body, and the server's log lines for those answers;
# when no request failed, the folder listings rclone got (what it saw of
# the tree).

W="$RCLONE_WORK"
LOGS="$W/logs"
RESULTS="$W/results"
mkdir -p "$LOGS"

CHECK=""
CHECK_LOG=""
REASONS=""
CALLS=0
OUT=""

fail() {
    printf '%s\n' "$*" >>"$REASONS"
    return 1
}

# rcl [--dump WHAT] ARGS...: rclone with the test config; its stdout lands
# in $OUT, its -vv log is appended to the check's log. Returns rclone's
# exit status.
rcl() {
    local dump="headers,responses"
    if [[ "${1:-}" == --dump ]]; then
        dump="$2"
        shift 2
    fi
    CALLS=$((CALLS + 1))
    OUT="$LOGS/$CHECK.$CALLS.out"
    printf '\n===== rclone %s\n' "$*" >>"$CHECK_LOG"
    timeout 600 rclone --config "$W/rclone.conf" --ca-cert "$W/pki/ca.pem" \
        --cache-dir "$W/cache" --retries 1 --low-level-retries 2 \
        --contimeout 10s --timeout 120s -vv --dump "$dump" \
        "$@" >"$OUT" 2>>"$CHECK_LOG"
}

# rcl_ok ARGS...: rcl, failing the check on a non-zero exit.
rcl_ok() {
    local rc=0
    rcl "$@" || rc=$?
    [[ $rc -eq 0 ]] || fail "rclone $* exited with status $rc"
}

api() {
    python3 "$HERE/boxapi.py" "$@"
}

# field JSON KEY: one top-level field of a JSON object.
field() {
    python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

sha1_of() {
    sha1sum "$1" | cut -d' ' -f1
}

size_of() {
    stat -c %s "$1"
}

# expect_file REMOTE_PATH LOCAL: the server holds a file at the path with
# LOCAL's size and SHA-1. Sets ITEM to its JSON.
expect_file() {
    ITEM="$(api stat "$1" 2>&1)" || {
        fail "the server has no item at $1 ($ITEM)"
        return 1
    }
    local size sha1
    size="$(field "$ITEM" size)"
    sha1="$(field "$ITEM" sha1)"
    [[ "$(field "$ITEM" type)" == file ]] || fail "$1 is not a file: $ITEM" || return 1
    [[ "$size" == "$(size_of "$2")" ]] || fail "$1 has size $size, want $(size_of "$2")" || return 1
    [[ "$sha1" == "$(sha1_of "$2")" ]] || fail "$1 has sha1 $sha1, want $(sha1_of "$2")" || return 1
}

# expect_gone REMOTE_PATH: the server has no item there.
expect_gone() {
    local item
    if item="$(api stat "$1" 2>/dev/null)"; then
        fail "$1 still exists on the server: $item"
    fi
}

# requests: the request lines (`METHOD PATH HTTP/1.1`) of the check's rclone
# dump, wherever they stand on a log line.
requests() {
    grep -oE '(GET|HEAD|POST|PUT|DELETE|OPTIONS) /[^ ]* HTTP/[0-9.]+' "$CHECK_LOG"
}

# logged PATTERN: the check's rclone dump has a request line matching the
# extended regex PATTERN (e.g. '^POST /api/2.0/files/content').
logged() {
    # Not `grep -q`: quitting at the first match would make `requests` die
    # of SIGPIPE, and pipefail would turn a match into a failure.
    [[ "$(requests | grep -cE "$1")" -gt 0 ]]
}

# exchanges MIN_STATUS [REGEX]: the HTTP exchanges in the check's dump whose
# answer has at least MIN_STATUS (and whose request line matches REGEX):
# the request line and host, the status line and the start of the body.
exchanges() {
    awk -v min="$1" -v want="${2:-}" '
        function text(line) { sub(/^[0-9\/]+ [0-9:]+ DEBUG : /, "", line); return line }
        function id(line) { sub(/.*\(req /, "", line); sub(/\).*/, "", line); return line }
        /HTTP REQUEST \(req / { req = id($0); mode = "req"; n = 0; next }
        /HTTP RESPONSE \(req / { req = id($0); mode = "resp"; n = 0; next }
        /^[0-9\/]+ [0-9:]+ DEBUG : (>>>>>>|<<<<<<)/ { mode = ""; next }
        mode == "req" {
            line = text($0)
            if (n == 0) reqline[req] = line
            if (line ~ /^Host: /) host[req] = substr(line, 7)
            n++
        }
        mode == "resp" {
            line = text($0)
            if (n == 0) {
                # Kept now: Go may reuse the request id of a finished request.
                split(line, f, " ")
                cur = 0
                if (f[2] + 0 >= min + 0 && reqline[req] ~ want) {
                    cur = ++count; rl[cur] = reqline[req]; hs[cur] = host[req]; st[cur] = line
                }
            } else if (cur && line !~ /^[A-Za-z-]+: / && line != "") body[cur] = body[cur] line " "
            n++
        }
        END {
            for (i = 1; i <= count; i++) {
                printf "    %s  (Host: %s)\n      -> %s\n", rl[i], hs[i], st[i]
                if (body[i] != "") printf "      body: %s\n", substr(body[i], 1, 700)
            }
        }
    ' "$CHECK_LOG"
}

# rclone prints a Box error's context_info as a list of byte values; show
# it as the JSON it is.
decode_bytes() {
    python3 -c '
import re, sys
def text(m):
    return "(" + bytes(int(b) for b in m.group(1).split()).decode(errors="replace") + ")"
for line in sys.stdin:
    sys.stdout.write(re.sub(r"\(\[((?:\d+ )*\d+)\]\)", text, line))
'
}

report_failure() {
    echo "FAIL $CHECK"
    sed 's/^/  reason: /' "$REASONS"
    local errors
    errors="$(grep -E ' (ERROR|CRITICAL|Failed to) ' "$CHECK_LOG" | sed 's/^[0-9/]* [0-9:]* //' |
        decode_bytes | awk '!seen[$0]++' | head -6)"
    if [[ -n "$errors" ]]; then
        echo "  rclone said:"
        sed 's/^/    /' <<<"$errors"
    fi
    local exchanges
    exchanges="$(exchanges 400 | head -30)"
    if [[ -n "$exchanges" ]]; then
        echo "  requests boxup answered with an error (from rclone -vv --dump):"
        echo "$exchanges"
    else
        # Nothing failed outright: what rclone saw of the tree is the lead
        # (it keeps entries whose item_status is "active" and pages by
        # next_marker).
        exchanges="$(exchanges 0 '^GET /2.0/folders/[0-9]+/items' | head -9)"
        if [[ -n "$exchanges" ]]; then
            echo "  no request failed; the first folder listings boxup answered:"
            echo "$exchanges"
        fi
    fi
    local served
    served="$(tail -n +"$((SERVER_LOG_MARK + 1))" "$W/server.log" | grep -E 'served status=[45]' |
        sed -E 's/^[^ ]+ +//' | head -10)"
    if [[ -n "$served" ]]; then
        echo "  server log:"
        sed 's/^/    /' <<<"$served"
    fi
}

# run_check NAME FUNCTION (skipped, and not counted, unless NAME matches
# BOXUP_RCLONE_ONLY when that is set: for working on one check)
run_check() {
    if [[ -n "${BOXUP_RCLONE_ONLY:-}" ]] && ! grep -qE "$BOXUP_RCLONE_ONLY" <<<"$1"; then
        return 0
    fi
    CHECK="$(tr ' /' '__' <<<"$1" | tr -cd 'A-Za-z0-9_.-')"
    local name="$1" fn="$2"
    CHECK_LOG="$LOGS/$CHECK.log"
    REASONS="$LOGS/$CHECK.reasons"
    CALLS=0
    : >"$CHECK_LOG"
    : >"$REASONS"
    SERVER_LOG_MARK="$(wc -l <"$W/server.log")"
    local started=$SECONDS
    "$fn" || true
    if [[ -s "$REASONS" ]]; then
        CHECK="$name" report_failure
        echo "FAIL $name: $(head -1 "$REASONS")" >>"$RESULTS"
    else
        echo "ok   $name ($((SECONDS - started))s)"
        echo "PASS $name" >>"$RESULTS"
    fi
}
