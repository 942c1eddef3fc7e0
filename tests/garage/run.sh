#!/usr/bin/env bash
# Runs a command against a throwaway single-node Garage cluster.
#
#   tests/garage/run.sh COMMAND [ARGS...]
#
# Installs Garage once into the tool cache (install.sh), writes a config
# with free loopback ports and a fresh RPC secret into a temp dir, starts
# the server, waits until it answers, applies a one-node layout, creates a
# key and a bucket, and runs COMMAND with:
#
#   BOXUP_TEST_S3_URL        s3://BUCKET/PREFIX (a fresh prefix per run)
#   BOXUP_TEST_S3_ENDPOINT   http://127.0.0.1:PORT
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION ("garage")
#
# Afterwards the server is stopped and the temp dir removed, whatever
# COMMAND did; the exit status is COMMAND's.
set -euo pipefail
exec </dev/null

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

garage_bin="$("$HERE/install.sh")"
work="$(mktemp -d "${TMPDIR:-/tmp}/boxup-garage.XXXXXX")"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
s3_port="$(free_port)"
rpc_port="$(free_port)"
admin_port="$(free_port)"
cat >"$work/garage.toml" <<TOML
metadata_dir = "$work/meta"
data_dir = "$work/data"
db_engine = "lmdb"
# Durable on one node: every object and its metadata are fsynced before
# Garage answers, so an acknowledged part survives a crash of the node.
data_fsync = true
metadata_fsync = true
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$(openssl rand -hex 32)"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin_port"
TOML
garage() { "$garage_bin" -c "$work/garage.toml" "$@"; }

RUST_LOG=warn "$garage_bin" -c "$work/garage.toml" server >"$work/server.log" 2>&1 &
server_pid=$!
# Ready when the CLI can talk to the node over RPC (polled: it has no
# readiness signal), bounded so a broken start fails the run.
for _ in $(seq 1 300); do
    if garage status >/dev/null 2>&1; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "garage: the server exited:" >&2
        cat "$work/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
garage status >/dev/null

node_id="$(garage node id -q | cut -d@ -f1)"
garage layout assign -z dc1 -c 1G "$node_id" >/dev/null
garage layout apply --version 1 >/dev/null
key_json="$(garage json-api CreateKey '{"name": "boxup-test"}')"
key_id="$(printf '%s' "$key_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessKeyId"])')"
secret="$(printf '%s' "$key_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secretAccessKey"])')"
bucket_json="$(garage json-api CreateBucket '{"globalAlias": "boxup-test"}')"
bucket_id="$(printf '%s' "$bucket_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
garage json-api AllowBucketKey "{\"bucketId\": \"$bucket_id\", \"accessKeyId\": \"$key_id\",
    \"permissions\": {\"read\": true, \"write\": true, \"owner\": true}}" >/dev/null
echo "garage: $("$garage_bin" --version | head -1) on 127.0.0.1:$s3_port, bucket boxup-test" >&2

export BOXUP_TEST_S3_URL="s3://boxup-test/run-$(openssl rand -hex 4)"
export BOXUP_TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port"
export AWS_ACCESS_KEY_ID="$key_id" AWS_SECRET_ACCESS_KEY="$secret" AWS_REGION=garage
set +e
"$@"
status=$?
set -e
exit "$status"
