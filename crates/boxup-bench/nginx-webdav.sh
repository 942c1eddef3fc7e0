#!/usr/bin/env bash
# Baseline for upload-bench: one `curl -T` PUT of a file to nginx's WebDAV
# module over loopback, on the same disk as a boxup data directory would be.
#
# Requires nginx with the DAV module (Debian/Ubuntu's package has it):
#     apt-get update && apt-get install -y nginx
# (nginx is not vendored; the package's own service need not run.)
#
# Usage: nginx-webdav.sh [FILE]
#   FILE      the file to PUT (default: SIZE random bytes generated in DIR)
#   SIZE      env, size of the generated file, as for `head -c` (default 1G)
#   DIR       env, a directory on the disk to test (default: mktemp -d);
#             nginx's prefix, body temp files and uploads all go under it
#
# Prints the HTTP status, seconds and MB/s of the PUT, then the same with a
# `sync` of the uploaded file counted in (boxup acknowledges a part only
# after fsync; nginx never fsyncs), and checks the stored copy's SHA-1.
set -euo pipefail

command -v nginx >/dev/null || { echo "nginx not found: apt-get install -y nginx" >&2; exit 1; }
nginx -V 2>&1 | grep -q with-http_dav_module || { echo "this nginx lacks the DAV module" >&2; exit 1; }

SIZE=${SIZE:-1G}
made_dir=0
if [[ -z "${DIR:-}" ]]; then DIR=$(mktemp -d); made_dir=1; fi
DIR=$(cd "$DIR" && pwd)
mkdir -p "$DIR/www" "$DIR/tmp" "$DIR/logs"

FILE=${1:-}
if [[ -z "$FILE" ]]; then
    FILE="$DIR/source.bin"
    echo "generating $SIZE of random bytes in $FILE"
    head -c "$SIZE" /dev/urandom >"$FILE"
fi
bytes=$(stat -c %s "$FILE")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user_line=""
if [[ $(id -u) -eq 0 ]]; then user_line="user $(id -un) $(id -gn);"; fi
cat >"$DIR/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon on;
pid $DIR/nginx.pid;
error_log $DIR/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_max_body_size 0;
    client_body_buffer_size 1m;
    client_body_temp_path $DIR/tmp;
    proxy_temp_path $DIR/tmp/proxy;
    fastcgi_temp_path $DIR/tmp/fastcgi;
    uwsgi_temp_path $DIR/tmp/uwsgi;
    scgi_temp_path $DIR/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $DIR/www;
        location / {
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw;
        }
    }
}
EOF

stop() {
    nginx -p "$DIR" -c "$DIR/nginx.conf" -s stop 2>/dev/null || true
    if [[ $made_dir -eq 1 ]]; then rm -rf "$DIR"; fi
}
trap stop EXIT
nginx -p "$DIR" -c "$DIR/nginx.conf"
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///') on 127.0.0.1:$port, prefix $DIR"

# Flush dirty data first, so the PUT does not pay for earlier writes;
# the second figure then includes writing the upload back to disk.
sync
start=$(date +%s.%N)
out=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' -T "$FILE" "http://127.0.0.1:$port/upload.bin")
sync -f "$DIR/www/upload.bin" 2>/dev/null || sync
end=$(date +%s.%N)
read -r status secs <<<"$out"
with_sync=$(echo "$end - $start" | bc -l)
[[ "$status" == 201 || "$status" == 204 ]] || { echo "PUT answered $status" >&2; cat "$DIR/logs/error.log" >&2; exit 1; }
printf 'PUT %s bytes: status %s, %.3f s, %.1f MB/s, %.1f MiB/s\n' "$bytes" "$status" "$secs" \
    "$(echo "$bytes / $secs / 1000000" | bc -l)" "$(echo "$bytes / $secs / 1048576" | bc -l)"
printf 'PUT + sync:      %.3f s, %.1f MB/s, %.1f MiB/s\n' "$with_sync" \
    "$(echo "$bytes / $with_sync / 1000000" | bc -l)" "$(echo "$bytes / $with_sync / 1048576" | bc -l)"
src=$(sha1sum <"$FILE" | cut -d' ' -f1)
dst=$(sha1sum <"$DIR/www/upload.bin" | cut -d' ' -f1)
[[ "$src" == "$dst" ]] && echo "stored copy matches (sha1 $src)" || { echo "stored copy differs" >&2; exit 1; }
