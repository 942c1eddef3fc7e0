# Sourced by the test scripts (interop, rclone, replicas): finds the server
# binary they run.
#
#   boxup_server_binary NAME
#
# Uses $BOXUP_BIN when set (it must be an executable file, else exit 2),
# otherwise builds one with `cargo build --release -p boxup`; then makes
# BOXUP_BIN absolute, exports it, and says which binary on stderr, each
# message prefixed with NAME.
boxup_server_binary() {
    local who=$1 target_dir
    if [[ -n "${BOXUP_BIN:-}" ]]; then
        if [[ ! -x "$BOXUP_BIN" ]]; then
            echo "$who: BOXUP_BIN=$BOXUP_BIN is not an executable file" >&2
            exit 2
        fi
    else
        echo "$who: cargo build --release -p boxup" >&2
        cargo build --release -p boxup
        target_dir="$(cargo metadata --format-version 1 --no-deps |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
        BOXUP_BIN="$target_dir/release/boxup"
    fi
    BOXUP_BIN="$(cd "$(dirname "$BOXUP_BIN")" && pwd)/$(basename "$BOXUP_BIN")"
    export BOXUP_BIN
    echo "$who: server binary $BOXUP_BIN" >&2
}
