#!/usr/bin/env bash
# Checks that the page embedded in boxup (crates/boxup-web/assets) is
# exactly what this source builds from its lockfile: type-checks the
# TypeScript, builds into a scratch directory and compares byte for byte.
# A difference means someone changed web/ without rebuilding (or edited
# the bundle by hand): run `npm --prefix web ci && npm --prefix web run
# build` and commit the result.
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")"

# esbuild's postinstall only checks its platform binary, which npm
# installs anyway as an optional dependency: no install scripts are run.
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
npm run --silent check
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
node build.mjs "$out" >/dev/null
if ! diff -r "$out" ../crates/boxup-web/assets; then
  echo "crates/boxup-web/assets is not what web/ builds: rebuild it (npm --prefix web run build) and commit" >&2
  exit 1
fi
echo "the embedded page matches web/"
