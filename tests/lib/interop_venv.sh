# Sourced by the scripts that run Python tools from pinned requirements:
# makes or reuses a virtualenv.
#
#   pinned_venv NAME VENV_DIR REQUIREMENTS_FILE
#   interop_venv NAME        # Box's official Python SDK: the interop suite,
#                            # the benchmark comparison
#
# Sets VENV to VENV_DIR (interop: ROOT/target/interop-venv) and makes it
# from REQUIREMENTS_FILE with $PYTHON (default python3), unless a stamp of
# the requirements file's SHA-256 and the interpreter's version shows it
# is up to date. Messages on stderr are prefixed with NAME. Returns
# non-zero, leaving no stamp, when pip cannot install the requirements.
# Needs ROOT set to the repository root.
pinned_venv() {
    local who=$1 requirements=$3 want_stamp stamp_file
    local python="${PYTHON:-python3}"
    VENV=$2
    want_stamp="$("$python" - "$requirements" <<'PY'
import hashlib, sys
digest = hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
print(f"{digest} python-{sys.version.split()[0]}")
PY
)"
    stamp_file="$VENV/.requirements.stamp"
    if [[ -x "$VENV/bin/python" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$want_stamp" ]]; then
        echo "$who: reusing $VENV" >&2
        return 0
    fi
    echo "$who: creating $VENV" >&2
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$python" -m venv "$VENV" || return 1
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        -r "$requirements" || return 1
    echo "$want_stamp" >"$stamp_file"
}

interop_venv() {
    pinned_venv "$1" "$ROOT/target/interop-venv" "$ROOT/tests/interop/requirements.txt"
}
