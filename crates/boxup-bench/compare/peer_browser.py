"""The browser row: boxup's own web page uploading the file in headless
Chromium (Debian's, as the page's tests use), to the same kind of boxup
server as the CLI. The page hashes each part and the whole file with
SHA-1 in a Web Worker and sends four parts at once with XHR, so it
verifies what the CLI verifies; the row says what a person dropping the
file on the page gets.

peers/browser/page-upload.mjs drives the page over the DevTools protocol
without its Network domain (which would copy every request body), times
the upload from choosing the file to the page showing it done, and needs
nothing but Node.js 20 and Chromium. The SHA-1 the server computed is
checked here afterwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import measure
from boxup_run import Server, tail
from measure import Result

NAME = "boxup web page (headless Chromium)"
SCRIPT = Path(__file__).resolve().parents[1] / "peers" / "browser" / "page-upload.mjs"


def chromium_version(chromium: str) -> str:
    proc = subprocess.run([chromium, "--version"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    words = proc.stdout.split()
    return words[1] if len(words) > 1 else "?"


def run(server: Server, file: Path, want_sha1: str, chromium: str = "/usr/bin/chromium") -> Result:
    node = shutil.which("node")
    if node is None:
        return Result.failed(NAME, "node is not on PATH")
    if not Path(chromium).is_file():
        return Result.failed(NAME, f"no Chromium at {chromium} (tests/web/install.sh installs it)")
    name = NAME.replace("Chromium", f"Chromium {chromium_version(chromium)}")
    proc, wall, client, srv = measure.run_timed(
        [node, "--experimental-websocket", "--no-warnings", str(SCRIPT), server.origin,
         server.token, str(file), chromium],
        server_pid=server.pid)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return Result.failed(name, f"exited with status {proc.returncode}: {tail(proc.stderr)}")
    seconds = json.loads(lines[-1])["seconds"]
    items = server.request("GET", "/2.0/folders/0/items?fields=name,sha1&limit=1000")
    stored = [e for e in items["entries"] if e.get("name") == file.name]
    if not stored or stored[0].get("sha1") != want_sha1:
        return Result.failed(name, f"the server holds {stored} for {file.name}, "
                                   f"not sha1 {want_sha1}")
    return Result(name, file.stat().st_size, seconds, client, srv,
                  "SHA-1 per part (Digest) and whole file at commit (in a Web Worker)",
                  durable=True,
                  notes=f"four parts at once with XHR; timed inside the page, from choosing "
                        f"the file to done (browser start and sign-in, {wall - seconds:.1f} s, "
                        f"not counted; client CPU is the whole browser's, start included)")
