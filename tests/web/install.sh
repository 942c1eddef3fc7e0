#!/usr/bin/env bash
# Installs what the web tests need, once:
#
#   1. Debian's Chromium (and a font), unless $CHROMIUM (default
#      /usr/bin/chromium) is already executable. playwright-core drives it;
#      no browser is ever downloaded.
#   2. tests/web's npm packages (playwright-core, pinned by
#      package-lock.json) with `npm ci` into target/web-test, outside the
#      tracked files (node_modules has no place in the repository), as the
#      benchmark's tus peer does into target/bench-node. A stamp of the
#      lockfile's SHA-256, written after a successful install, makes later
#      runs skip npm.
#
#   tests/web/install.sh
#
# Prints the install directory (the one holding node_modules) as the only
# line on stdout; every message goes to stderr. run.sh passes it to the
# tests as WEB_NODE_DIR.
set -euo pipefail
exec </dev/null

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
NODE_DIR="${WEB_NODE_DIR:-$ROOT/target/web-test}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
STAMP=".installed-lockfile-sha256"
say() { echo "web-install: $*" >&2; }

# 1. Chromium.
if [[ -x "$CHROMIUM" ]]; then
    say "using $CHROMIUM"
else
    say "$CHROMIUM is missing: installing Debian's chromium"
    sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null || { say "not root and no sudo: cannot install chromium"; exit 2; }
        sudo=(sudo -n)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q >&2
    "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >&2
    [[ -x "$CHROMIUM" ]] || { say "chromium installed, but $CHROMIUM is not executable"; exit 2; }
fi
say "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM (version unknown)")"

# 2. The npm packages.
command -v npm >/dev/null || { say "npm is not on PATH"; exit 2; }
want="$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$NODE_DIR/$STAMP" && "$(cat "$NODE_DIR/$STAMP")" == "$want" &&
      -d "$NODE_DIR/node_modules/playwright-core" ]]; then
    say "reusing $NODE_DIR/node_modules"
else
    say "npm ci in $NODE_DIR"
    mkdir -p "$NODE_DIR"
    rm -f "$NODE_DIR/$STAMP"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$NODE_DIR/"
    # --ignore-scripts: playwright-core has no install script, and no
    # package may fetch anything at install time.
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --ignore-scripts >&2)
    echo "$want" >"$NODE_DIR/$STAMP"
fi
echo "$NODE_DIR"
