#!/usr/bin/env bash
# Runs boxup's interoperability suite against Box's official Python SDK
# (box-sdk-gen from PyPI).
#
#   tests/interop/run.sh [pytest args...]
#
# Environment:
#   BOXUP_BIN   use this server binary instead of `cargo build --release -p boxup`
#   PYTHON      interpreter that creates the virtualenv (default: python3)
#   BOXUP_INTEROP_KEEP_DATA=1  keep each server's data dir and log
#   BOXUP_INTEROP_SMALL_URL, BOXUP_INTEROP_DEFAULT_URL   external mode: run
#               against these already running deployments instead of
#               starting servers (see conftest.py); no binary is needed
#
# The last line of output is always `N passed, M failed`; the exit status is
# non-zero when any test failed (skips and xfails count as failed) or none ran.
set -euo pipefail
exec </dev/null

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-python3}"

summary_printed=0
work_dir=""
finish() {
    local rc=$?
    if [[ -n "$work_dir" ]]; then rm -rf "$work_dir"; fi
    if [[ $summary_printed -eq 0 ]]; then
        echo "interop: aborted before any test ran (exit status $rc)" >&2
        echo "0 passed, 0 failed"
        [[ $rc -eq 0 ]] && rc=1
    fi
    exit "$rc"
}
trap finish EXIT

cd "$ROOT"

# 1. The server binary (none in external mode: the servers are running).
if [[ -n "${BOXUP_INTEROP_SMALL_URL:-}${BOXUP_INTEROP_DEFAULT_URL:-}" ]]; then
    echo "interop: external mode, small=${BOXUP_INTEROP_SMALL_URL:-} default=${BOXUP_INTEROP_DEFAULT_URL:-}" >&2
else
    # shellcheck source=../lib/server_binary.sh
    source "$ROOT/tests/lib/server_binary.sh"
    boxup_server_binary interop
fi

# 2. The virtualenv, reused while requirements.txt and the interpreter are unchanged.
# shellcheck source=../lib/interop_venv.sh
source "$ROOT/tests/lib/interop_venv.sh"
if ! interop_venv interop; then
    echo "interop: cannot install tests/interop/requirements.txt (see pip's error above)" >&2
    exit 3
fi

# 3. The tests.
work_dir="$(mktemp -d)"
junit="$work_dir/junit.xml"
set +e
PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" -m pytest \
    -c "$HERE/pytest.ini" --rootdir "$HERE" --junitxml="$junit" "$HERE" "$@"
pytest_rc=$?
set -e

read -r passed failed < <("$VENV/bin/python" - "$junit" <<'EOF'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0)
    raise SystemExit
passed = failed = 0
for case in root.iter("testcase"):
    # A failure, an error (setup/teardown/collection) or a skip/xfail is not a pass.
    if any(child.tag in ("failure", "error", "skipped") for child in case):
        failed += 1
    else:
        passed += 1
print(passed, failed)
EOF
)

rc=0
if [[ $failed -gt 0 || $passed -eq 0 ]]; then
    rc=1
elif [[ $pytest_rc -ne 0 ]]; then
    echo "interop: pytest exited with status $pytest_rc" >&2
    rc=$pytest_rc
fi
summary_printed=1
echo "$passed passed, $failed failed"
exit "$rc"
