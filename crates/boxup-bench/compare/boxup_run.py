"""boxup itself, end to end: the `boxup` CLI uploading to (and downloading
from) a `boxup serve` on loopback, exactly as a user would run them.

The server is a child process of this one, so its CPU and memory come
straight from /proc: CPU as a delta around each client run, peak RSS as
VmHWM after resetting it before the upload, and the RSS after the upload,
polled until it falls back near its idle size (a server that keeps a
burst's buffers for ever is a server that runs out of memory on the next
one). The part size is asked from the server itself: an upload session
for a file of the test size is opened and aborted.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

import machine
import measure
from measure import Result

MIB = 1 << 20
PARALLEL = 4  # the CLI's default, passed explicitly: the memory target depends on it
VERIFIES = "SHA-1 per part (Digest) and whole file at commit"


def tail(text: str | None, lines: int = 6) -> str:
    return " | ".join((text or "").strip().splitlines()[-lines:]) or "(no output)"


class Server:
    """One `boxup serve` on 127.0.0.1, data under DATA_DIR, log in LOG."""

    def __init__(self, boxup: Path, data_dir: Path, log: Path):
        self.boxup, self.log = boxup, log
        self.token = secrets.token_hex(16)
        port = measure.free_port()
        self.origin = f"http://127.0.0.1:{port}"
        with open(log, "w") as out:
            self.proc = subprocess.Popen(
                [str(boxup), "serve", "--bind", f"127.0.0.1:{port}", "--data-dir",
                 str(data_dir), "--token", f"{self.token}=bench", "--shutdown-grace", "5s"],
                env=dict(os.environ, RUST_LOG="warn", NO_COLOR="1"),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        try:
            measure.wait_for_port(port, self.proc, "boxup serve")
            self.request("GET", "/healthz")
        except (RuntimeError, OSError) as e:
            self.stop()
            raise RuntimeError(f"{e}; server log: {tail(log.read_text())}") from None

    def request(self, method: str, path: str, body: dict | None = None) -> dict | None:
        req = urllib.request.Request(
            self.origin + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as res:
            text = res.read()
        return json.loads(text) if text.strip() else None

    def part_size(self, size: int) -> int:
        """The part size this server gives an upload of SIZE bytes (an
        upload session is opened and aborted to learn it)."""
        session = self.request("POST", "/api/2.0/files/upload_sessions", {
            "folder_id": "0", "file_size": size,
            "file_name": f"part-size-probe-{secrets.token_hex(4)}.bin"})
        self.request("DELETE", f"/api/2.0/files/upload_sessions/{session['id']}")
        return int(session["part_size"])

    def rss(self) -> tuple[int, int]:
        return measure.proc_rss_bytes(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cli(self, args: list[str], state_dir: Path) -> tuple[subprocess.CompletedProcess, float, float, float | None]:
        """Runs `boxup ARGS` against this server, timed."""
        env = dict(os.environ, BOX_TOKEN=self.token, NO_COLOR="1")
        argv = [str(self.boxup), *args, "--api-url", self.origin, "--state-dir",
                str(state_dir), "--quiet", "--json"]
        return measure.run_timed(argv, env=env, server_pid=self.pid)


def _json_line(proc: subprocess.CompletedProcess) -> dict:
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"no JSON on stdout: {tail(proc.stdout)} {tail(proc.stderr)}")
    return json.loads(lines[-1])


def upload(server: Server, name: str, file: Path, want_sha1: str, state_dir: Path,
           durable: bool, notes: str) -> tuple[Result, dict]:
    """`boxup upload FILE`: the Result, the CLI's JSON, and the server's
    memory around it (idle_rss, peak_rss, peak_is_own)."""
    machine.quiesce()  # earlier writes are not this upload's to flush
    mem: dict = {"idle_rss": server.rss()[0]}
    mem["peak_is_own"] = measure.reset_peak_rss(server.pid)
    proc, wall, client, srv = server.cli(
        ["upload", str(file), "--name", name, "--parallel", str(PARALLEL)], state_dir)
    mem["peak_rss"] = server.rss()[1]
    if proc.returncode != 0:
        return Result.failed(name, f"boxup upload exited with status {proc.returncode}: "
                                   f"{tail(proc.stderr)}"), mem
    try:
        out = _json_line(proc)
    except (RuntimeError, ValueError) as e:
        return Result.failed(name, str(e)), mem
    if out.get("sha1") != want_sha1:
        return Result.failed(name, f"committed SHA-1 {out.get('sha1')}, want {want_sha1}"), mem
    return Result(name, file.stat().st_size, wall, client, srv, VERIFIES, durable,
                  notes=f"{notes}; {out.get('parts_total')} parts, --parallel {PARALLEL}"), \
        dict(mem, **out)


def settle(server: Server, idle: int, limit_s: float = 60.0) -> dict:
    """Polls the server's RSS once a second until it is under 2 x IDLE or
    LIMIT_S pass; returns the samples and the time it took (None if it
    did not get there)."""
    start = time.monotonic()
    samples = []
    while True:
        now = server.rss()[0]
        elapsed = time.monotonic() - start
        samples.append((round(elapsed, 1), now))
        if now < 2 * idle:
            return {"settled_s": elapsed, "samples": samples}
        if elapsed >= limit_s:
            return {"settled_s": None, "samples": samples}
        # A benchmark waiting on the server's own memory release: poll at 1 Hz.
        time.sleep(1.0)


def download(server: Server, file_id: str, size: int, want_sha1: str, out: Path,
             state_dir: Path) -> Result:
    """`boxup download FILE_ID` (the CLI checks the SHA-1 itself)."""
    name = "boxup download (CLI, disk server)"
    machine.quiesce()
    try:
        proc, wall, client, srv = server.cli(["download", file_id, "-o", str(out)], state_dir)
        if proc.returncode != 0:
            return Result.failed(name, f"boxup download exited with status "
                                       f"{proc.returncode}: {tail(proc.stderr)}")
        got = _json_line(proc)
        if got.get("sha1") != want_sha1 or out.stat().st_size != size:
            return Result.failed(name, f"downloaded {out.stat().st_size} bytes with SHA-1 "
                                       f"{got.get('sha1')}, want {size} bytes, {want_sha1}")
        return Result(name, size, wall, client, srv, "whole-file SHA-1 (CLI)", durable=True,
                      notes="the CLI fsyncs the file before reporting")
    except (OSError, RuntimeError, ValueError) as e:
        return Result.failed(name, str(e))
    finally:
        out.unlink(missing_ok=True)
