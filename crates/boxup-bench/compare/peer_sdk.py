"""The SDK peer: Box's official Python SDK (box-sdk-gen, the version pinned
in tests/interop/requirements.txt) uploading with `upload_big_file`, the
call Box documents for big files, to the same kind of boxup server as
boxup's own CLI. It uploads one part at a time and hashes each part and
the whole file, so it verifies what boxup verifies; the comparison is
about how fast a client can do it.

The SDK runs in the interop venv (compare.sh makes it as
tests/interop/run.sh does); sdk_client.py is the script it runs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import measure
from boxup_run import Server, tail
from measure import Result

NAME = "official Python SDK upload_big_file (box-sdk-gen)"
CLIENT = Path(__file__).resolve().parent / "sdk_client.py"


def version(python: Path) -> str:
    proc = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                           "print(m.version('box-sdk-gen'))"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return proc.stdout.strip() or "?"


def run(server: Server, file: Path, want_sha1: str, python: Path) -> Result:
    if not python.is_file():
        return Result.failed(NAME, f"no venv interpreter at {python}")
    name = NAME.replace("box-sdk-gen", f"box-sdk-gen {version(python)}")
    proc, wall, _client, srv = measure.run_timed(
        [str(python), str(CLIENT), str(file), server.origin, server.token, want_sha1],
        server_pid=server.pid)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return Result.failed(name, f"exited with status {proc.returncode}: "
                                   f"{tail(proc.stdout, 2)} {tail(proc.stderr)}")
    out = json.loads(lines[-1])
    return Result(name, file.stat().st_size, out["seconds"], out["cpu_s"], srv,
                  "SHA-1 per part (Digest) and whole file at commit; checks the returned sha1",
                  durable=True,
                  notes=f"one part at a time; upload_big_file timed inside the client "
                        f"(interpreter start and imports, {wall - out['seconds']:.1f} s, "
                        f"not counted); server fsyncs each part and the commit")
