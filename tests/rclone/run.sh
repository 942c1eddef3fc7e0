#!/usr/bin/env bash
# Runs rclone's Box backend, unchanged, against `boxup serve` over TLS.
#
#   tests/rclone/run.sh
#
# rclone hardcodes Box's hosts (api.box.com, upload.box.com, ...), so the
# server and rclone run inside private namespaces made by `unshare`: a new
# network namespace (the server binds 127.0.0.1:443 there, touching nothing
# on the host), a mount namespace in which a hosts file mapping Box's names
# to 127.0.0.1 is bind-mounted over /etc/hosts, and a PID namespace, so that
# the server cannot outlive the run. The server's certificate comes from a
# CA made for this run (openssl), which rclone is given with --ca-cert. The
# machine's /etc/hosts and trust store are never changed; everything
# temporary lives in one mktemp dir, removed at exit. The checks themselves
# are in checks.sh, which runs inside the namespaces.
#
# Environment:
#   BOXUP_BIN   use this server binary instead of `cargo build --release -p boxup`
#   BOXUP_RCLONE_KEEP=1   keep the temp dir (logs, server data) for inspection
#   BOXUP_RCLONE_ONLY=REGEX   run only the checks whose names match (the others
#               are neither run nor counted)
#
# Needs root (for the namespaces and port 443). rclone is installed from
# Debian's package when missing. The last line of output is always
# `N passed, M failed`; the exit status is non-zero when any check failed
# or none ran.
set -euo pipefail
exec </dev/null

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

summary_printed=0
work_dir=""
finish() {
    local rc=$?
    if [[ -n "$work_dir" ]]; then
        if [[ "${BOXUP_RCLONE_KEEP:-}" == 1 ]]; then
            echo "rclone: kept $work_dir" >&2
        else
            rm -rf "$work_dir"
        fi
    fi
    if [[ $summary_printed -eq 0 ]]; then
        echo "rclone: aborted before any check ran (exit status $rc)" >&2
        echo "0 passed, 0 failed"
        [[ $rc -eq 0 ]] && rc=1
    fi
    exit "$rc"
}
trap finish EXIT

cd "$ROOT"

# 1. Tools. rclone comes from Debian (1.60.x on this distribution).
if ! command -v rclone >/dev/null; then
    echo "rclone: installing Debian's rclone package" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q rclone >&2; then
        apt-get update -q >&2
        apt-get install -y -q rclone >&2
    fi
fi
for tool in rclone unshare ip mount openssl python3 sha1sum cmp curl; do
    if ! command -v "$tool" >/dev/null; then
        echo "rclone: '$tool' is required but not installed" >&2
        exit 2
    fi
done
echo "rclone: $(rclone version | head -1)" >&2

# 2. The server binary.
# shellcheck source=../lib/server_binary.sh
source "$ROOT/tests/lib/server_binary.sh"
boxup_server_binary rclone

# 3. A CA for this run and a server certificate for every Box host rclone
#    (or a redirect) may name.
work_dir="$(mktemp -d)"
BOX_HOSTS="api.box.com upload.box.com app.box.com account.box.com dl.boxcloud.com public.boxcloud.com"
sans="$(printf 'DNS:%s,' $BOX_HOSTS)DNS:localhost,IP:127.0.0.1"
pki="$work_dir/pki"
mkdir "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 -subj "/CN=boxup rclone test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$pki/server.key" -out "$pki/server.csr" -subj "/CN=api.box.com" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    "$sans" >"$pki/server.ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 2 -extfile "$pki/server.ext" \
    -out "$pki/server.pem" 2>/dev/null

# 4. The checks, in the namespaces. Each records PASS/FAIL in results.
results="$work_dir/results"
: >"$results"
set +e
unshare --net --mount --pid --fork --kill-child -- \
    env BOXUP_BIN="$BOXUP_BIN" RCLONE_WORK="$work_dir" BOX_HOSTS="$BOX_HOSTS" \
    bash "$HERE/checks.sh"
checks_rc=$?
set -e

passed="$(grep -c '^PASS ' "$results" || true)"
failed="$(grep -c '^FAIL ' "$results" || true)"
rc=0
if [[ $failed -gt 0 || $passed -eq 0 ]]; then
    rc=1
    if [[ $failed -gt 0 ]]; then
        echo "rclone: failed checks:" >&2
        sed -n 's/^FAIL /  /p' "$results" >&2
    fi
elif [[ $checks_rc -ne 0 ]]; then
    echo "rclone: checks.sh exited with status $checks_rc" >&2
    rc=$checks_rc
fi
summary_printed=1
echo "$passed passed, $failed failed"
exit "$rc"
