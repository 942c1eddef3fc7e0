#!/usr/bin/env bash
# Scale-out test: several `boxup serve` replicas behind a load balancer.
#
#   tests/replicas/run.sh
#
# Why: with --database-url (PostgreSQL metadata) and --storage s3://...
# (part bytes in an object store) boxup promises that any number of
# replicas can serve one deployment, with nothing kept in a replica's
# memory or disk that another needs. Box's SDKs spread one upload over many
# requests (create session, each part, list parts, commit, then download by
# a signed link), so behind a round-robin balancer consecutive requests of
# one upload land on different replicas. This test holds the promise to
# that, and to a replica dying mid-upload:
#
# 1. Two deployments, `small` (1 MiB parts, as the interop suite's small
#    server) and `default` (Box's part-size rule), of three replicas each.
#    Each deployment has its own fresh PostgreSQL database (created here,
#    dropped at the end) and its own prefix in the object store; the
#    replicas of both share one signing key file and one tokens file (the
#    interop suite's tokens). The three replicas of a deployment start at
#    once, so their schema migrations race, as in a real rollout.
# 2. Debian's nginx balances each deployment round-robin, the way a
#    production proxy for uploads is set up: request buffering off (part
#    bodies stream through), response buffering off, no body size limit,
#    HTTP/1.1 to the replicas. Every replica gets --public-url of its
#    balancer, so the URLs it hands out (session_endpoints, download links)
#    point back at nginx.
# 3. The interop suite (tests/interop, Box's official Python SDK) runs
#    unchanged through nginx, in its external mode.
# 4. kill_during_upload.py: box-sdk-gen's upload_big_file of a file over
#    256 MiB through the default deployment's balancer; once a quarter of the
#    parts are stored, the replica receiving a part at that moment is
#    SIGKILLed, kept down while the upload goes on, and restarted on the
#    same port (replica.sh, a small supervisor). The SDK retries what the
#    kill broke (nginx answers 502 for a request whose replica died); the
#    upload must complete, the restarted replica must serve again, and the
#    file downloaded through nginx must have the uploaded bytes and SHA-1.
# 5. No replica may have panicked (their logs are searched).
#
# Needs PostgreSQL (BOXUP_TEST_DATABASE_URL, by default
# postgres://postgres@127.0.0.1:5432/test; a role that may CREATE DATABASE)
# and an S3-compatible server: when BOXUP_TEST_S3_URL is not set, the
# script runs itself under tests/garage/run.sh (a throwaway Garage), which
# sets it, BOXUP_TEST_S3_ENDPOINT and the AWS_* credentials.
# nginx is installed from Debian's nginx-light package when missing.
#
# Environment:
#   BOXUP_BIN   use this server binary instead of `cargo build --release -p boxup`
#   BOXUP_REPLICAS_KEEP=1   keep the temp dir (replica logs, nginx logs)
#   BOXUP_REPLICAS_SIZE_MIB   size of the kill test's file (default 256;
#               a few KiB are added so that the last part is short)
#
# The last line of output is always `N passed, M failed` (the interop
# tests, plus the kill test and the log check); the exit status is non-zero
# when anything failed or nothing ran.
set -euo pipefail
exec </dev/null

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/target/interop-venv"

# 0. An object store: without one, run under a throwaway Garage. The inner
#    run prints the summary; when Garage itself fails, this one does.
if [[ -z "${BOXUP_TEST_S3_URL:-}" ]]; then
    marker="$(mktemp)"
    set +e
    BOXUP_REPLICAS_SUMMARY_MARKER="$marker" bash "$ROOT/tests/garage/run.sh" bash "$HERE/run.sh"
    rc=$?
    set -e
    if [[ ! -s "$marker" ]]; then
        echo "replicas: aborted before any test ran (exit status $rc)" >&2
        echo "0 passed, 0 failed"
        [[ $rc -eq 0 ]] && rc=1
    fi
    rm -f "$marker"
    exit "$rc"
fi

PG_URL="${BOXUP_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
psql_admin() { psql "$PG_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }

summary_printed=0
work_dir=""
nginx_pid=""
supervisors=()
databases=()

log_tails() {
    [[ -n "$work_dir" && -d "$work_dir" ]] || return 0
    local f
    for f in "$work_dir"/replicas/*/log "$work_dir"/nginx/error.log; do
        [[ -s "$f" ]] || continue
        echo "----- ${f#"$work_dir"/} (last 30 lines)" >&2
        tail -n 30 "$f" >&2
    done
}

# alive PID: the process exists and is not a zombie.
alive() {
    [[ -e "/proc/$1/stat" ]] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null
}

stop_all() {
    local dir pid sup deadline
    if [[ -n "$nginx_pid" ]]; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
        nginx_pid=""
    fi
    [[ ${#supervisors[@]} -gt 0 ]] || return 0
    for dir in "$work_dir"/replicas/*/; do
        touch "$dir/stop"
        if [[ -f "$dir/pid" ]]; then kill -TERM "$(cat "$dir/pid")" 2>/dev/null || true; fi
    done
    # Each supervisor ends once its server has (a graceful shutdown is
    # quick with nothing in flight); a server still up after 15 s is killed.
    deadline=$((SECONDS + 15))
    for dir in "$work_dir"/replicas/*/; do
        [[ -f "$dir/pid" ]] || continue
        pid="$(cat "$dir/pid")"
        while alive "$pid" && [[ $SECONDS -lt $deadline ]]; do sleep 0.1; done
        if alive "$pid"; then
            echo "replicas: $(basename "$dir") ignored SIGTERM for 15 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for sup in "${supervisors[@]}"; do wait "$sup" 2>/dev/null || true; done
    supervisors=()
}

# Stops everything, drops the databases, removes the temp dir; idempotent.
cleanup() {
    stop_all
    local db
    for db in "${databases[@]}"; do
        psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null ||
            echo "replicas: could not drop database $db" >&2
    done
    databases=()
    if [[ -n "$work_dir" ]]; then
        if [[ "${BOXUP_REPLICAS_KEEP:-}" == 1 ]]; then
            echo "replicas: kept $work_dir" >&2
        else
            rm -rf "$work_dir"
        fi
        work_dir=""
    fi
}

finish() {
    local rc=$?
    if [[ $summary_printed -eq 0 ]]; then log_tails; fi
    cleanup
    if [[ $summary_printed -eq 0 ]]; then
        echo "replicas: aborted before the summary (exit status $rc)" >&2
        echo "0 passed, 0 failed"
        [[ $rc -eq 0 ]] && rc=1
    fi
    if [[ -n "${BOXUP_REPLICAS_SUMMARY_MARKER:-}" ]]; then
        echo done >"$BOXUP_REPLICAS_SUMMARY_MARKER"
    fi
    exit "$rc"
}
trap finish EXIT

cd "$ROOT"

# 1. Tools. nginx comes from Debian (1.22 on this distribution).
NGINX=/usr/sbin/nginx
if [[ ! -x "$NGINX" ]]; then
    echo "replicas: installing Debian's nginx-light package" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q nginx-light >&2; then
        apt-get update -q >&2
        apt-get install -y -q nginx-light >&2
    fi
fi
for tool in "$NGINX" psql curl openssl python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "replicas: '$tool' is required but not installed" >&2
        exit 2
    fi
done
echo "replicas: $("$NGINX" -v 2>&1), $(psql --version)" >&2

# 2. The server binary.
# shellcheck source=../lib/server_binary.sh
source "$ROOT/tests/lib/server_binary.sh"
boxup_server_binary replicas

# 3. Shared secrets and settings.
work_dir="$(mktemp -d "${TMPDIR:-/tmp}/boxup-replicas.XXXXXX")"
run_id="$(openssl rand -hex 4)"
openssl rand -hex 32 >"$work_dir/signing.key"
# The interop suite's tokens (tests/interop/interop_helpers.py).
printf '%s\n' "interop-alice-token=alice" "interop-bob-token=bob" >"$work_dir/tokens"
chmod 600 "$work_dir/signing.key" "$work_dir/tokens"

# Eight distinct free loopback ports: three replicas and a balancer for
# each deployment (all sockets held until all are chosen).
read -r -a ports < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(8):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)
declare -A replica_ports=(
    [small]="${ports[0]} ${ports[1]} ${ports[2]}"
    [default]="${ports[3]} ${ports[4]} ${ports[5]}"
)
declare -A lb_ports=([small]="${ports[6]}" [default]="${ports[7]}")
declare -A deploy_args=(
    [small]="--part-size 1048576 --min-chunked-size 1048576"
    [default]=""
)

# 4. One database per deployment (the deployments are separate Box
#    instances with their own users and ids).
db_url() {
    python3 - "$PG_URL" "$1" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + sys.argv[2], u.query, u.fragment)))
EOF
}
if ! psql_admin -c "SELECT 1" >/dev/null; then
    echo "replicas: cannot connect to PostgreSQL at $PG_URL (set BOXUP_TEST_DATABASE_URL)" >&2
    exit 2
fi
declare -A db_urls=()
for deploy in small default; do
    db="boxup_replicas_${run_id}_$deploy"
    psql_admin -c "CREATE DATABASE \"$db\"" >/dev/null
    databases+=("$db")
    db_urls[$deploy]="$(db_url "$db")"
done

# 5. The replicas: all six at once, each under replica.sh.
mkdir "$work_dir/replicas"
for deploy in small default; do
    i=0
    for port in ${replica_ports[$deploy]}; do
        i=$((i + 1))
        dir="$work_dir/replicas/$deploy-$i"
        mkdir -p "$dir"
        echo "$port" >"$dir/port"
        # shellcheck disable=SC2086 # deploy_args are words
        bash "$HERE/replica.sh" "$dir" "$BOXUP_BIN" \
            --bind "127.0.0.1:$port" \
            --data-dir "$dir/data" \
            --public-url "http://127.0.0.1:${lb_ports[$deploy]}" \
            --tokens-file "$work_dir/tokens" \
            --signing-key-file "$work_dir/signing.key" \
            --database-url "${db_urls[$deploy]}" \
            --storage "$BOXUP_TEST_S3_URL/$deploy" \
            ${BOXUP_TEST_S3_ENDPOINT:+--s3-endpoint "$BOXUP_TEST_S3_ENDPOINT"} \
            --s3-region "${AWS_REGION:-garage}" \
            --s3-path-style \
            --shutdown-grace 5s \
            ${deploy_args[$deploy]} &
        supervisors+=("$!")
    done
done

# wait_healthy URL WHAT: polls until URL answers 200, for at most 60 s,
# failing early when a supervisor has exited.
wait_healthy() {
    local url="$1" what="$2" deadline=$((SECONDS + 60)) sup
    while [[ $SECONDS -lt $deadline ]]; do
        if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
        for sup in "${supervisors[@]}"; do
            if ! alive "$sup"; then
                echo "replicas: a replica exited while $what was starting" >&2
                return 1
            fi
        done
        sleep 0.1
    done
    echo "replicas: $what did not answer $url within 60 s" >&2
    return 1
}
started=$SECONDS
for dir in "$work_dir"/replicas/*/; do
    name="$(basename "$dir")"
    wait_healthy "http://127.0.0.1:$(cat "$dir/port")/healthz" "replica $name"
done
echo "replicas: 6 replicas healthy after $((SECONDS - started)) s" >&2

# 6. nginx, one round-robin balancer per deployment.
ngx="$work_dir/nginx"
mkdir -p "$ngx/tmp"
{
    # As root the workers would otherwise run as www-data, which cannot
    # enter the temp dir.
    [[ $EUID -eq 0 ]] && echo "user root;"
    cat <<EOF
daemon off;
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/error.log notice;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $ngx/tmp/body;
    proxy_temp_path $ngx/tmp/proxy;
    fastcgi_temp_path $ngx/tmp/fastcgi;
    uwsgi_temp_path $ngx/tmp/uwsgi;
    scgi_temp_path $ngx/tmp/scgi;
    log_format replicas '\$msec \$request_method \$request_uri \$status '
                        'upstream=\$upstream_addr upstream_status=\$upstream_status '
                        'request_time=\$request_time';
EOF
    for deploy in small default; do
        echo "    upstream boxup_$deploy {"
        for port in ${replica_ports[$deploy]}; do
            # A replica that failed is left out for 1 s, then tried again.
            echo "        server 127.0.0.1:$port max_fails=1 fail_timeout=1s;"
        done
        echo "    }"
        cat <<EOF
    server {
        listen 127.0.0.1:${lb_ports[$deploy]};
        access_log $ngx/access-$deploy.log replicas;
        client_max_body_size 0;
        location / {
            proxy_pass http://boxup_$deploy;
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_set_header Host \$host:\$server_port;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            # A request that never reached a replica (refused connection)
            # goes to the next one; nginx never resends a body it started
            # to stream, nor a non-idempotent request that was sent.
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 5s;
            proxy_read_timeout 120s;
            proxy_send_timeout 120s;
        }
    }
EOF
    done
    echo "}"
} >"$ngx/nginx.conf"
"$NGINX" -t -q -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log"
"$NGINX" -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" &
nginx_pid=$!
for deploy in small default; do
    wait_healthy "http://127.0.0.1:${lb_ports[$deploy]}/healthz" "nginx ($deploy)"
done
echo "replicas: nginx balancing small on 127.0.0.1:${lb_ports[small]}, default on 127.0.0.1:${lb_ports[default]}" >&2

# 7. The interop suite through nginx.
echo "== replicas: the interop suite through nginx" >&2
set +e
# `boxup admin` (the OAuth tests add their apps with it) works on the
# deployments' shared databases.
BOXUP_INTEROP_SMALL_URL="http://127.0.0.1:${lb_ports[small]}" \
    BOXUP_INTEROP_DEFAULT_URL="http://127.0.0.1:${lb_ports[default]}" \
    BOXUP_INTEROP_SMALL_DATABASE_URL="${db_urls[small]}" \
    BOXUP_INTEROP_DEFAULT_DATABASE_URL="${db_urls[default]}" \
    BOXUP_BIN="$BOXUP_BIN" bash "$ROOT/tests/interop/run.sh" | tee "$work_dir/interop.out"
interop_rc=${PIPESTATUS[0]}
set -e
interop_passed=0
interop_failed=1
if read -r p _ f _ < <(tail -n 1 "$work_dir/interop.out") && [[ "$p" =~ ^[0-9]+$ && "$f" =~ ^[0-9]+$ ]]; then
    interop_passed=$p
    interop_failed=$f
fi
if [[ $interop_rc -ne 0 && $interop_failed -eq 0 ]]; then interop_failed=1; fi

# 8. The kill test.
echo "== replicas: upload_big_file through nginx while a replica is killed and restarted" >&2
kill_passed=0
kill_failed=0
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "replicas: no interop virtualenv at $VENV (tests/interop/run.sh makes it)" >&2
    kill_failed=1
else
    set +e
    PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" "$HERE/kill_during_upload.py" \
        --origin "http://127.0.0.1:${lb_ports[default]}" \
        --token interop-alice-token \
        --access-log "$ngx/access-default.log" \
        --work-dir "$work_dir" \
        --size-mib "${BOXUP_REPLICAS_SIZE_MIB:-256}" \
        "$work_dir"/replicas/default-*/
    kill_rc=$?
    set -e
    if [[ $kill_rc -eq 0 ]]; then kill_passed=1; else kill_failed=1; fi
fi

# 9. Every replica is still up, and none panicked.
logs_ok=1
for dir in "$work_dir"/replicas/*/; do
    name="$(basename "$dir")"
    if ! curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$(cat "$dir/port")/healthz"; then
        echo "replicas: FAIL replica $name no longer answers" >&2
        logs_ok=0
    fi
    if grep -n -i "panicked" "$dir/log" >&2; then
        echo "replicas: FAIL replica $name panicked (lines above, from its log)" >&2
        logs_ok=0
    fi
done
if [[ $logs_ok -eq 1 ]]; then
    echo "replicas: PASS every replica answers and none panicked" >&2
fi

passed=$((interop_passed + kill_passed + logs_ok))
failed=$((interop_failed + kill_failed + 1 - logs_ok))
echo "replicas: interop $interop_passed passed, $interop_failed failed;" \
    "kill test $([[ $kill_passed -eq 1 ]] && echo passed || echo failed);" \
    "replica logs $([[ $logs_ok -eq 1 ]] && echo clean || echo not clean)" >&2
rc=0
if [[ $failed -gt 0 || $passed -eq 0 ]]; then
    rc=1
    log_tails
fi
cleanup
summary_printed=1
echo "$passed passed, $failed failed"
exit "$rc"
