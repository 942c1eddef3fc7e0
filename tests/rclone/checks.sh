#!/usr/bin/env bash
# The rclone checks, run by run.sh inside fresh network, mount and PID
# namespaces (never directly). Brings up loopback, maps Box's hosts to it
# with a bind-mounted hosts file, starts `boxup serve` on 127.0.0.1:443 with
# the run's certificate, and runs each check of checks_*.sh in turn. Every
# check runs even when an earlier one failed; each seeds what it needs
# through boxapi.py rather than relying on another check's result, and
# asserts on rclone's exit status and on what the server then holds.
set -uo pipefail
exec </dev/null

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

setup_failed() {
    echo "FAIL setup: $*" | tee -a "$RESULTS"
    exit 1
}

# 1. The namespace: loopback up, Box's names on it, no proxy.
ip link set lo up || setup_failed "cannot bring up lo"
printf '127.0.0.1 localhost %s\n::1 localhost\n' "$BOX_HOSTS" >"$W/hosts"
mount --bind "$W/hosts" /etc/hosts || setup_failed "cannot bind-mount the hosts file"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
export HOME="$W/home" XDG_CONFIG_HOME="$W/home/.config" XDG_CACHE_HOME="$W/cache"
mkdir -p "$HOME" "$W/cache"

# 2. The server, stopped (SIGTERM, then its graceful shutdown) at exit; the
#    PID namespace ends it anyway when this script does.
TOKEN="$(openssl rand -hex 24)"
export BOXAPI_TOKEN="$TOKEN" BOXAPI_CA="$W/pki/ca.pem"
RUST_LOG=info NO_COLOR=1 "$BOXUP_BIN" serve --bind 127.0.0.1:443 --data-dir "$W/data" \
    --token "$TOKEN=rclone" --tls-cert "$W/pki/server.pem" --tls-key "$W/pki/server.key" \
    --shutdown-grace 5s >"$W/server.out" 2>"$W/server.log" &
server_pid=$!
stop_server() {
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
}
trap stop_server EXIT

# Ready when /healthz answers over TLS as api.box.com (polled, bounded).
ready=0
for _ in $(seq 1 300); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$W/server.log" >&2
        setup_failed "boxup serve exited at start-up (its log is above)"
    fi
    if curl -sf --max-time 2 --cacert "$W/pki/ca.pem" https://api.box.com/healthz >/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
[[ $ready -eq 1 ]] || setup_failed "boxup serve did not answer https://api.box.com/healthz within 30s"
echo "rclone: boxup serve is up: $(head -1 "$W/server.out")" >&2

# 3. rclone's config: the `box` remote with boxup's token, which never
#    expires, so rclone never tries to refresh it at Box. Three entries a
#    page, so that every listing pages through markers.
cat >"$W/rclone.conf" <<EOF
[box]
type = box
token = {"access_token":"$TOKEN","token_type":"Bearer","refresh_token":"unused","expiry":"2099-01-01T00:00:00Z"}
list_chunk = 3
commit_retries = 2
EOF

# 4. Local files. rclone's upload cutoff is 50 MiB (and cannot be lower),
#    so the big files take upload sessions and the small ones do not.
L="$W/local"
mkdir -p "$L/many" "$L/checked"
head -c 5000 /dev/urandom >"$L/small.bin"
head -c 7001 /dev/urandom >"$L/small-v2.bin"
head -c $((60 * 1024 * 1024)) /dev/urandom >"$L/big.bin"
head -c $((60 * 1024 * 1024 + 4096)) /dev/urandom >"$L/big-v2.bin"
for i in 1 2 3 4 5 6 7 8; do head -c $((1000 * i + 17)) /dev/urandom >"$L/many/f$i.bin"; done
for i in 1 2 3; do head -c 3000 /dev/urandom >"$L/checked/c$i.bin"; done

# shellcheck source=checks_files.sh
source "$HERE/checks_files.sh"
# shellcheck source=checks_tree.sh
source "$HERE/checks_tree.sh"

run_check "mkdir" check_mkdir
run_check "copy small file (simple upload)" check_copy_small
run_check "copy large file (upload session)" check_copy_large
run_check "lsd root" check_lsd_root
run_check "lsjson root" check_lsjson_root
run_check "lsd folder over several pages" check_lsd_paged
run_check "lsjson folder over several pages" check_lsjson_paged
run_check "check (sha1)" check_check
run_check "hashsum sha1 equals sha1sum" check_hashsum
run_check "copy back and cmp" check_copy_back
run_check "overwrite small file (new version)" check_overwrite_small
run_check "overwrite large file (new version)" check_overwrite_large
run_check "moveto (rename)" check_moveto_rename
run_check "moveto (another folder)" check_moveto_folder
run_check "server-side copy (copyto on the remote)" check_server_side_copy
run_check "delete" check_delete
run_check "rmdir" check_rmdir
run_check "purge" check_purge
run_check "about" check_about
run_check "copy with --transfers 4" check_transfers
exit 0
