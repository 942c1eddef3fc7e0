#!/usr/bin/env bash
# One command for every number boxup's README claims about speed: boxup and
# its peers measured side by side in one run on one machine, each as a
# ratio to a reference measured in the same run (one core's SHA-1, the
# disk's fdatasync floor, the comparable boxup row), then a markdown table
# and a list of targets with PASS/MISS. See compare/compare.py for the items.
#
#   crates/boxup-bench/compare.sh
#   FILE_SIZE=256M SKIP=rclone,tus,sdk,nginx,sessions crates/boxup-bench/compare.sh
#
# Environment:
#   BOXUP_BIN, UPLOAD_BENCH_BIN   the binaries to measure; when neither is set,
#               `cargo build --release -p boxup -p boxup-bench` makes both (when
#               one is set, the other is looked for beside it)
#   WORK_DIR    a directory on the disk under test (default: a new mktemp dir
#               under $TMPDIR, else /var/tmp); the run's files go into a
#               scratch dir inside it, removed at exit
#   FILE_SIZE   the test file's size, e.g. 256M, 1G (binary units; default 1G)
#   SKIP        comma list of items not to run: dd,tmpfs,sdk,browser,rclone,tus,
#               nginx,sessions,download
#   RESULTS     where the raw results are appended as JSON lines (default:
#               WORK_DIR/results.jsonl); kept
#   PYTHON      interpreter that creates the SDK's venv (default: python3)
#
# Installs what it needs when missing: rclone, nginx (with its DAV module)
# and Chromium from Debian's packages, the SDK's venv target/interop-venv
# (made by tests/lib/interop_venv.sh, as for the interop suite, so either
# reuses the other's), and the tus peer's npm packages in
# target/bench-node/tus. Needs about 5 x FILE_SIZE free in WORK_DIR (plus
# 8 GiB for the sessions item) and 2 x FILE_SIZE in /dev/shm; root for
# rclone's namespaces. The exit status is non-zero when anything failed to
# run (a MISS is not a failure); the table is printed either way.
set -euo pipefail
exec </dev/null

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
FILE_SIZE="${FILE_SIZE:-1G}"
SKIP="${SKIP:-}"
say() { echo "compare: $*" >&2; }
skipped() { [[ ",$SKIP," == *",$1,"* ]]; }

scratch="" shm="" made_work=""
cleanup() {
    if [[ -n "$scratch" ]]; then rm -rf "$scratch"; fi
    if [[ -n "$shm" ]]; then rm -rf "$shm"; fi
    # A WORK_DIR made here goes too, unless RESULTS is in it.
    if [[ -n "$made_work" ]]; then rmdir "$made_work" 2>/dev/null || true; fi
}
trap cleanup EXIT

# 1. The binaries.
if [[ -z "${BOXUP_BIN:-}" && -z "${UPLOAD_BENCH_BIN:-}" ]]; then
    say "cargo build --release -p boxup -p boxup-bench"
    (cd "$ROOT" && cargo build --release -p boxup -p boxup-bench)
    target_dir="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    BOXUP_BIN="$target_dir/release/boxup"
    UPLOAD_BENCH_BIN="$target_dir/release/upload-bench"
fi
BOXUP_BIN="${BOXUP_BIN:-$(dirname "$UPLOAD_BENCH_BIN")/boxup}"
UPLOAD_BENCH_BIN="${UPLOAD_BENCH_BIN:-$(dirname "$BOXUP_BIN")/upload-bench}"
for bin in "$BOXUP_BIN" "$UPLOAD_BENCH_BIN"; do
    [[ -x "$bin" ]] || { say "$bin is not an executable file"; exit 2; }
done
BOXUP_BIN="$(realpath "$BOXUP_BIN")"
UPLOAD_BENCH_BIN="$(realpath "$UPLOAD_BENCH_BIN")"

# 2. Tools.
for tool in python3 openssl dd curl df; do
    command -v "$tool" >/dev/null || { say "'$tool' is required but not installed"; exit 2; }
done
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { say "python3 must be 3.11 or newer"; exit 2; }
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    say "installing Debian's $*"
    if ! apt-get install -y -q "$@" >&2; then
        apt-get update -q >&2 && apt-get install -y -q "$@" >&2
    fi
}
if ! skipped rclone && ! command -v rclone >/dev/null; then
    apt_install rclone || say "cannot install rclone (its row will say so)"
fi
if ! skipped browser && [[ ! -x /usr/bin/chromium ]]; then
    apt_install chromium fonts-dejavu-core || say "cannot install chromium (the page's row will say so)"
fi
if ! skipped nginx; then
    if ! command -v nginx >/dev/null || ! nginx -V 2>&1 | grep -q with-http_dav_module; then
        apt_install nginx || say "cannot install nginx (its row will say so)"
    fi
fi

# 3. The SDK's venv, shared with the interop suite.
# shellcheck source=../../tests/lib/interop_venv.sh
source "$ROOT/tests/lib/interop_venv.sh"
VENV="$ROOT/target/interop-venv"
if ! skipped sdk && ! interop_venv compare; then
    say "cannot make $VENV (the SDK's row will say so)"
fi

# 4. The tus peer's npm packages.
NODE_DIR="$ROOT/target/bench-node/tus"
if ! skipped tus; then
    python3 - "$HERE/compare" "$NODE_DIR" <<'EOF' || say "tus install failed (its row will say so)"
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import peer_tus
try:
    peer_tus.install(Path(sys.argv[2]))
except (OSError, RuntimeError) as e:
    print(f"compare: {e}", file=sys.stderr)
    sys.exit(1)
EOF
fi

# 5. Directories and space.
if [[ -z "${WORK_DIR:-}" ]]; then
    WORK_DIR="$(mktemp -d -p "${TMPDIR:-/var/tmp}" boxup-compare.XXXXXX)"
    made_work="$WORK_DIR"
fi
mkdir -p "$WORK_DIR"
WORK_DIR="$(realpath "$WORK_DIR")"
RESULTS="${RESULTS:-$WORK_DIR/results.jsonl}"
if [[ "$(stat -f -c %T "$WORK_DIR")" == tmpfs ]]; then
    say "warning: WORK_DIR $WORK_DIR is on tmpfs, so the disk figures are not a disk's"
fi
bytes="$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import machine
print(machine.parse_size(sys.argv[2]))' "$HERE/compare" "$FILE_SIZE")" ||
    { say "FILE_SIZE=$FILE_SIZE is not a size like 256M or 1G"; exit 2; }
need=$((5 * bytes))
skipped sessions || need=$((need + (256 << 25) + bytes))
free_kib() { df -Pk "$1" | awk 'NR == 2 { print $4 }'; }
if (( $(free_kib "$WORK_DIR") * 1024 < need )); then
    say "$WORK_DIR has $(( $(free_kib "$WORK_DIR") >> 20 )) GiB free, the run needs $((need >> 30)) GiB"
    exit 2
fi
if (( $(free_kib /dev/shm) * 1024 < 2 * bytes )); then
    say "/dev/shm has $(( $(free_kib /dev/shm) >> 10 )) MiB free, the run needs $((2 * bytes >> 20)) MiB"
    exit 2
fi
scratch="$(mktemp -d -p "$WORK_DIR" run.XXXXXX)"
shm="$(mktemp -d -p /dev/shm boxup-compare.XXXXXX)"

# 6. The run.
set +e
PYTHONDONTWRITEBYTECODE=1 python3 "$HERE/compare/compare.py" \
    --boxup "$BOXUP_BIN" --upload-bench "$UPLOAD_BENCH_BIN" \
    --scratch "$scratch" --shm "$shm" --results "$RESULTS" \
    --venv-python "$VENV/bin/python" --node-dir "$NODE_DIR" \
    --size "$FILE_SIZE" --skip "$SKIP"
rc=$?
set -e
exit "$rc"
