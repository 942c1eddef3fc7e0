#!/usr/bin/env bash
# `boxup serve` with part bytes on local disk vs in an S3-compatible object
# store (Garage), and the same file sent straight to that store by the
# tools a user might pick instead, in one run on one machine:
#
#   1. a 1 GiB upload with upload-bench, part bytes on disk, then in the
#      object store: MiB/s each and the ratio store/disk;
#   2. commit latency at SIZES (256M,1G,4G) with the object store;
#   3. boxup's peak RSS during each of those uploads;
#   4. the same 1 GiB file as an S3 multipart upload with SHA-1 checksums:
#      `aws s3 cp --checksum-algorithm SHA1` (8 MiB parts, 4 in flight,
#      like upload-bench, and with aws-cli's defaults, 10 in flight), and
#      boto3 `upload_file` (ChecksumAlgorithm SHA1, 8 MiB parts, 4 threads).
#
# Then one table: MiB/s, commit ms, peak RSS (boxup's, or the client's for
# the peers), and the CPU seconds of boxup / the client / Garage during
# each upload, which show who the bottleneck is.
#
# Usage: crates/boxup-bench/s3-compare.sh
#
# Without BOXUP_TEST_S3_URL in the environment it runs itself under
# tests/garage/run.sh (a throwaway single-node Garage with fsync on);
# with it, it uses the store that BOXUP_TEST_S3_URL (s3://BUCKET/PREFIX),
# BOXUP_TEST_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
# AWS_REGION describe (path-style requests), under a fresh sub-prefix per
# upload.
#
# Environment:
#   BOXUP_BIN, UPLOAD_BENCH_BIN  the binaries; when neither is set, both are
#                  built with `cargo build --release -p boxup -p boxup-bench`
#   WORK_DIR       where the test files and boxup's data dir go (default:
#                  TMPDIR or /tmp, where run.sh also keeps Garage's data, so
#                  that disk and object store share one disk)
#   FILE_SIZE      the size of the file of items 1 and 4 (default 1G)
#   SIZES          the commit-latency sizes (default 256M,1G,4G)
#   PARALLEL       PUTs in flight for upload-bench (default 4)
#   RESULTS        also keep the raw results (JSON lines) in this file
#
# Needs about 16 GiB free (checked first); every generated file is deleted
# at the end.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SIZES=${SIZES:-256M,1G,4G}
PARALLEL=${PARALLEL:-4}
FILE_SIZE=${FILE_SIZE:-1G}

if [[ -z "${BOXUP_BIN:-}" && -z "${UPLOAD_BENCH_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build --release -p boxup -p boxup-bench)
fi
target="${CARGO_TARGET_DIR:-$ROOT/target}/release"
BOXUP_BIN="$(realpath "${BOXUP_BIN:-$target/boxup}")"
UPLOAD_BENCH_BIN="$(realpath "${UPLOAD_BENCH_BIN:-$target/upload-bench}")"
export BOXUP_BIN UPLOAD_BENCH_BIN
for bin in "$BOXUP_BIN" "$UPLOAD_BENCH_BIN"; do
    [[ -x "$bin" ]] || { echo "no executable $bin" >&2; exit 1; }
done
command -v aws >/dev/null || { echo "aws-cli not found" >&2; exit 1; }
python3 -c 'import boto3' 2>/dev/null || { echo "boto3 not found (pip install boto3)" >&2; exit 1; }

WORK_DIR="$(realpath "${WORK_DIR:-${TMPDIR:-/tmp}}")"
export WORK_DIR

# Free space: the 1 GiB file, the largest generated size, boxup's disk
# run, and in the object store every upload (Garage frees nothing before
# the end), plus a tenth.
bytes() { numfmt --from=iec "$1"; }
need=$(($(bytes $FILE_SIZE) * 2))
largest=0
for s in ${SIZES//,/ }; do
    b=$(bytes "$s")
    need=$((need + b))
    ((b > largest)) && largest=$b
done
need=$((need + largest + $(bytes $FILE_SIZE) * 4))
need=$((need + need / 10))
avail=$(df -B1 --output=avail "$WORK_DIR" | tail -1)
if ((avail < need)); then
    echo "$WORK_DIR: $(numfmt --to=iec "$avail") free, this needs about $(numfmt --to=iec "$need")" >&2
    exit 1
fi

if [[ -z "${BOXUP_TEST_S3_URL:-}" ]]; then
    exec "$ROOT/tests/garage/run.sh" "$HERE/s3-compare.sh" "$@"
fi
: "${BOXUP_TEST_S3_ENDPOINT:?}" "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"
: "${AWS_REGION:=garage}"
export AWS_REGION AWS_DEFAULT_REGION="$AWS_REGION"

work="$(mktemp -d "$WORK_DIR/boxup-s3-compare.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
results="$work/results.jsonl"
source_file="$work/source-$FILE_SIZE.bin"
s3_url="${BOXUP_TEST_S3_URL%/}"
rest="${s3_url#s3://}"
bucket="${rest%%/*}"
prefix=""
[[ "$rest" == */* ]] && prefix="${rest#*/}/"

# The object store's server, when it is a local process (Garage under
# run.sh): its CPU time and peak RSS go into the table.
port="${BOXUP_TEST_S3_ENDPOINT##*:}"
port="${port%%/*}"
store_pid="$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)"
store_cpu() {
    # utime + stime, in clock ticks (100 a second), or empty.
    [[ -n "$store_pid" ]] || return 0
    awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$store_pid/stat"
}
store_mark() {
    [[ -n "$store_pid" ]] || return 0
    echo 5 >"/proc/$store_pid/clear_refs" 2>/dev/null || true
    store_cpu >"$work/store-cpu"
}
# Appends the object store's CPU seconds and peak RSS since store_mark to
# the last line of the results.
store_note() {
    local cpu peak
    [[ -n "$store_pid" ]] || return 0
    cpu=$(python3 -c "print(($(store_cpu) - $(cat "$work/store-cpu")) / 100)")
    peak=$(awk '/^VmHWM:/ { print $2 / 1024 }' "/proc/$store_pid/status")
    python3 - "$results" "$cpu" "$peak" <<'PY'
import json, sys
path, cpu, peak = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lines = open(path).read().splitlines()
last = json.loads(lines[-1])
last.update(store_cpu_s=cpu, store_peak_rss_mib=peak)
lines[-1] = json.dumps(last)
open(path, "w").write("\n".join(lines) + "\n")
PY
}

echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "== generating $FILE_SIZE of random bytes in $source_file"
head -c "$FILE_SIZE" /dev/urandom >"$source_file"
echo "== object store $BOXUP_TEST_S3_ENDPOINT, bucket $bucket, prefix ${prefix:-(none)}${store_pid:+, server pid $store_pid}"

bench() {
    "$UPLOAD_BENCH_BIN" --boxup "$BOXUP_BIN" --work-dir "$work" --parallel "$PARALLEL" \
        --json "$results" "$@"
}
s3_args=(--s3-endpoint "$BOXUP_TEST_S3_ENDPOINT" --s3-region "$AWS_REGION" --s3-path-style)

# A fresh Garage writes its first GiB markedly slower than later ones (its
# metadata and block directories grow); warm it up untimed so that the
# runs below, boxup's and the peers', all meet a warm store.
echo "== warm-up: 512M into the object store, untimed"
"$UPLOAD_BENCH_BIN" --boxup "$BOXUP_BIN" --work-dir "$work" --parallel "$PARALLEL" --size 512M \
    --data-dir "$work/data-warm" --storage "$s3_url/warm-up" "${s3_args[@]}" >/dev/null
rm -rf "$work/data-warm"

echo "== 1. upload-bench, $FILE_SIZE, part bytes on disk"
store_mark
bench --file "$source_file" --data-dir "$work/data-disk"
store_note
rm -rf "$work/data-disk"

echo "== 1. upload-bench, $FILE_SIZE, part bytes in the object store"
store_mark
bench --file "$source_file" --data-dir "$work/data-s3" --storage "$s3_url/boxup-1g" "${s3_args[@]}"
store_note

echo "== 2, 3. upload-bench, commit latency at $SIZES, object store"
# One server for the sizes; each upload's peak RSS is its own (VmHWM is
# reset before each), and the object store's figures cover all of them.
store_mark
bench --compare-sizes "$SIZES" --data-dir "$work/data-sizes" --storage "$s3_url/boxup-sizes" \
    "${s3_args[@]}"
store_note

# aws-cli reads its transfer settings from a config file.
aws_config() {
    local file="$work/aws-$1.cfg"
    {
        echo "[default]"
        echo "region = $AWS_REGION"
        echo "s3 ="
        echo "    addressing_style = path"
        if [[ "$1" == tuned ]]; then
            echo "    multipart_threshold = 8MB"
            echo "    multipart_chunksize = 8MB"
            echo "    max_concurrent_requests = $PARALLEL"
        fi
    } >"$file"
    echo "$file"
}
# `aws s3 cp` of the source file to KEY under CONFIG, timed whole
# (including the CLI's start, about what a user waits for).
aws_cp() {
    local what=$1 config=$2 key=$3 timing="$work/time.txt"
    echo "== 4. $what"
    store_mark
    AWS_CONFIG_FILE="$config" /usr/bin/time -f '%e %M %U %S' -o "$timing" \
        aws s3 cp "$source_file" "s3://$bucket/$key" --endpoint-url "$BOXUP_TEST_S3_ENDPOINT" \
        --checksum-algorithm SHA1 --no-progress
    local sha1
    sha1=$(AWS_CONFIG_FILE="$config" aws s3api head-object --bucket "$bucket" --key "$key" \
        --checksum-mode ENABLED --endpoint-url "$BOXUP_TEST_S3_ENDPOINT" \
        --query ChecksumSHA1 --output text)
    echo "  stored ChecksumSHA1: $sha1"
    read -r secs rss_kib user sys <"$timing"
    python3 - "$results" "$what" "$(stat -c %s "$source_file")" "$secs" "$rss_kib" "$user" "$sys" "$sha1" <<'PY'
import json, sys
path, what, size, secs, rss, user, sys_ = sys.argv[1:8]
sha1 = sys.argv[8]
size, secs = int(size), float(secs)
line = dict(mode="peer", what=what, size=size, total_s=secs, mib_s=size / 2**20 / secs,
            client_peak_rss_mib=int(rss) / 1024, client_cpu_s=float(user) + float(sys_),
            checksum_sha1=sha1)
print(f"  {secs:.2f} s, {line['mib_s']:.1f} MiB/s")
open(path, "a").write(json.dumps(line) + "\n")
PY
    store_note
}
aws_cp "aws s3 cp, 8 MiB x $PARALLEL" "$(aws_config tuned)" "${prefix}aws-tuned/source.bin"
aws_cp "aws s3 cp, defaults" "$(aws_config defaults)" "${prefix}aws-defaults/source.bin"

echo "== 4. boto3 upload_file, 8 MiB x $PARALLEL"
store_mark
python3 - "$results" "$source_file" "$bucket" "${prefix}boto3/source.bin" "$PARALLEL" <<'PY'
import json, os, resource, sys, time
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

path, source, bucket, key, parallel = sys.argv[1:6]
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["BOXUP_TEST_S3_ENDPOINT"],
    region_name=os.environ["AWS_REGION"],
    config=Config(s3={"addressing_style": "path"}),
)
mib = 1 << 20
transfer = TransferConfig(multipart_threshold=8 * mib, multipart_chunksize=8 * mib,
                          max_concurrency=int(parallel), use_threads=True)
cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
cpu0, t = cpu(), time.perf_counter()
s3.upload_file(source, bucket, key, ExtraArgs={"ChecksumAlgorithm": "SHA1"}, Config=transfer)
secs, cpu_s = time.perf_counter() - t, cpu() - cpu0
sha1 = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED").get("ChecksumSHA1")
size = os.path.getsize(source)
print(f"  stored ChecksumSHA1: {sha1}\n  {secs:.2f} s, {size / mib / secs:.1f} MiB/s")
line = dict(mode="peer", what=f"boto3 upload_file, 8 MiB x {parallel}", size=size, total_s=secs,
            mib_s=size / mib / secs, client_cpu_s=cpu_s,
            client_peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            checksum_sha1=sha1)
open(path, "a").write(json.dumps(line) + "\n")
PY
store_note

if [[ -n "${RESULTS:-}" ]]; then cp "$results" "$RESULTS"; fi
# Nothing of this run need stay in the store (run.sh's Garage goes anyway).
aws s3 rm --recursive --quiet "$s3_url/" --endpoint-url "$BOXUP_TEST_S3_ENDPOINT" \
    >/dev/null 2>&1 || true

python3 - "$results" "$PARALLEL" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys

rows = [json.loads(l) for l in open(sys.argv[1])]
parallel = sys.argv[2]

def size(b):
    for unit, shift in (("G", 30), ("M", 20)):
        if b >= 1 << shift and b % (1 << shift) == 0:
            return f"{b >> shift}{unit}"
    return str(b)

def num(v, fmt):
    return "-" if v is None else format(v, fmt)

table = []
for r in rows:
    if r["mode"] == "peer":
        what, rss = r["what"] + " (SHA-1)", f"{r['client_peak_rss_mib']:.0f} client"
        cpu = f"- / {r['client_cpu_s']:.1f} / {num(r.get('store_cpu_s'), '.1f')}"
        commit = None
    else:
        where = "disk" if r["storage"] == "disk" else "Garage"
        what = f"boxup, parts on {where}" + (" (sizes)" if r["mode"] == "sizes" else "")
        rss = f"{r['server_peak_rss_mib']:.0f} boxup"
        # Garage's figures cover the whole --compare-sizes run.
        store = r.get("store_cpu_s") if r["mode"] == "single" else None
        cpu = f"{r['server_cpu_s']:.1f} / {r['client_cpu_s']:.1f} / {num(store, '.1f')}"
        commit = r["commit_ms"]
    table.append((what, size(r["size"]), num(r["mib_s"], ".1f"), num(commit, ".1f"), rss, cpu))
sizes_store = [r for r in rows if r["mode"] == "sizes" and "store_cpu_s" in r]

head = ("what", "size", "MiB/s", "commit ms", "peak RSS MiB", "CPU s boxup/client/Garage")
widths = [max(len(str(row[i])) for row in table + [head]) for i in range(len(head))]
print()
print(f"upload-bench with {parallel} PUTs in flight; peers send 8 MiB parts")
for row in [head] + table:
    print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                    for i, (c, w) in enumerate(zip(row, widths))))
disk = next((r for r in rows if r["mode"] == "single" and r["storage"] == "disk"), None)
s3 = next((r for r in rows if r["mode"] == "single" and r["storage"] != "disk"), None)
peers = [r for r in rows if r["mode"] == "peer"]
if disk and s3:
    print(f"Garage/disk throughput ratio: {s3['mib_s'] / disk['mib_s']:.2f} (goal >= 0.70)")
if disk and peers:
    best = max(peers, key=lambda r: r["mib_s"])
    print(f"fastest direct S3 upload ({best['what']}) / boxup on disk: "
          f"{best['mib_s'] / disk['mib_s']:.2f}" + (f"; boxup on Garage / it: "
          f"{s3['mib_s'] / best['mib_s']:.2f}" if s3 else ""))
if any(r["what"].startswith("aws") for r in peers):
    print("aws s3 cp is timed as a user waits for it, its start (about a second) included")
print(f"load average at the end: {sys.argv[3]}")
if sizes_store:
    print(f"Garage during all the sizes: {sizes_store[-1]['store_cpu_s']:.1f} CPU s, "
          f"peak RSS {sizes_store[-1]['store_peak_rss_mib']:.0f} MiB")
PY
