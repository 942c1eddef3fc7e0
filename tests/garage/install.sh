#!/usr/bin/env bash
# Installs Garage (the S3-compatible object store boxup's object-store
# tests run against) into a cache outside the clone, once, and prints the
# path of its binary.
#
#   tests/garage/install.sh            # prints e.g. ~/.cache/boxup-tools/garage-2.5.0/bin/garage
#
# Garage is built from crates.io with `cargo install --locked` (no prebuilt
# binary is fetched), pinned to GARAGE_VERSION, with only what a test
# cluster needs (LMDB metadata, bundled C libraries). Building takes a while
# on a small machine, so the result is kept in the cache and reused by every
# later run on the same machine; a run that finds it skips the build.
#
# Environment:
#   BOXUP_TOOLS_CACHE  where tools are kept (default: $XDG_CACHE_HOME/boxup-tools,
#                      else ~/.cache/boxup-tools)
set -euo pipefail
exec </dev/null

GARAGE_VERSION=2.5.0
cache="${BOXUP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/boxup-tools}"
root="$cache/garage-$GARAGE_VERSION"
bin="$root/bin/garage"

if [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -qF "cargo:$GARAGE_VERSION"; then
    echo "$bin"
    exit 0
fi

mkdir -p "$cache"
# Build in a scratch target dir beside the cache, removed afterwards: only
# the binary is kept. A lock keeps two concurrent runs from building twice.
exec 9>"$cache/garage-$GARAGE_VERSION.lock"
flock 9
if [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -qF "cargo:$GARAGE_VERSION"; then
    echo "$bin"
    exit 0
fi
scratch="$(mktemp -d "$cache/garage-build.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
echo "garage: building Garage $GARAGE_VERSION from crates.io into $root (once per machine)" >&2
started=$(date +%s)
CARGO_TARGET_DIR="$scratch/target" cargo install garage \
    --version "$GARAGE_VERSION" --locked \
    --no-default-features --features bundled-libs,lmdb \
    --root "$scratch/root" >&2
mkdir -p "$root/bin"
mv "$scratch/root/bin/garage" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "garage: built in $(( $(date +%s) - started ))s" >&2
"$bin" --version >&2
echo "$bin"
