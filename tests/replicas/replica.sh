#!/usr/bin/env bash
# Runs one `boxup serve` replica for tests/replicas/run.sh, as a process
# supervisor would (restart on crash), in the replica's own directory DIR:
#
#   replica.sh DIR BOXUP_BIN ARGS...      (ARGS go to `boxup serve`)
#
# - DIR/pid holds the pid of the running server (replaced atomically on
#   every start); DIR/log collects its stderr and stdout, all starts appended;
#   DIR/events gets one line per start and exit.
# - When the server dies by SIGKILL it is started again with the same
#   arguments (so on the same port), once DIR/hold does not exist: the
#   kill test creates `hold` before the kill to keep the replica down for a
#   while, then removes it. Any other exit ends this script with that
#   status (no crash loop on a bad configuration).
# - DIR/stop (created before the server is sent SIGTERM) ends the script
#   instead of a restart.
#
# Only the arguments configure the server: BOXUP_* variables of the
# caller's environment are removed first.
set -uo pipefail
exec </dev/null

dir="$1"
bin="$2"
shift 2
for var in $(compgen -e); do
    if [[ "$var" == BOXUP_* ]]; then unset "$var"; fi
done
export RUST_LOG="${RUST_LOG:-info}" NO_COLOR=1

while :; do
    # The hold is a condition set and cleared by the kill test; it is
    # polled, and bounded by the run's own timeouts.
    while [[ -e "$dir/hold" && ! -e "$dir/stop" ]]; do sleep 0.05; done
    [[ -e "$dir/stop" ]] && exit 0
    "$bin" serve "$@" >>"$dir/log" 2>&1 &
    child=$!
    echo "$child" >"$dir/pid.new"
    mv "$dir/pid.new" "$dir/pid"
    echo "$(date +%s.%N) start pid $child" >>"$dir/events"
    # (stderr: without it bash reports the kill, which events records.)
    wait "$child" 2>/dev/null
    status=$?
    echo "$(date +%s.%N) exit pid $child status $status" >>"$dir/events"
    [[ -e "$dir/stop" ]] && exit 0
    # 128 + SIGKILL: the crash the test stages; restart.
    [[ $status -eq 137 ]] || exit "$status"
done
