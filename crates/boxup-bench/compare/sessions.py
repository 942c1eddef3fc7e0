"""Many uploads at once: `upload-bench --sessions 256` (256 concurrent
sessions of 32 MiB, 2 PUTs in flight each), and, in the same run, one
session of the test file through the same upload-bench client, so that
the aggregate is compared with one session measured the same way.

upload-bench runs its own `boxup serve` for each invocation. Its sessions
mode has no --json, so its text is parsed; the one-session run writes
--json. A line that cannot be parsed is an error, not a zero.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from boxup_run import tail

SESSIONS, SESSION_SIZE, SESSION_PARALLEL = 256, "32M", 2

SUMMARY = re.compile(r"(\d+) concurrent sessions of (\d+) bytes, (\d+) PUTs in flight each: "
                     r"(\d+) ok, (\d+) failed in ([\d.]+) s \(([\d.]+) MiB/s committed\)")
COMMIT = re.compile(r"commit ms p50 ([\d.]+) p95 ([\d.]+) max ([\d.]+); "
                    r"upload ms p50 ([\d.]+) p95 ([\d.]+) max ([\d.]+); retries (\d+)")
AFTER = re.compile(r"server RSS after sessions: ([\d.]+) MiB, peak \(VmHWM\) ([\d.]+) MiB")
END = re.compile(r"server peak RSS \(VmHWM\) ([\d.]+) MiB, RSS at end ([\d.]+) MiB")
IDLE = re.compile(r"server idle RSS ([\d.]+) MiB")
SETTLED = re.compile(r"server RSS back under 2 x idle \(([\d.]+) MiB\) after ([\d.]+) s: ([\d.]+) MiB")
UNSETTLED = re.compile(r"server RSS still ([\d.]+) MiB after ([\d.]+) s")


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"upload-bench exited with status {proc.returncode}: "
                           f"{tail(proc.stdout, 3)} {tail(proc.stderr)}")
    return proc


def burst(bench: Path, boxup: Path, work: Path) -> dict:
    """Item 6: the 256-session burst, parsed."""
    argv = [str(bench), "--boxup", str(boxup), "--work-dir", str(work),
            "--sessions", str(SESSIONS), "--session-size", SESSION_SIZE,
            "--session-parallel", str(SESSION_PARALLEL)]
    out = _run(argv).stdout
    m, c, a, e = (rx.search(out) for rx in (SUMMARY, COMMIT, AFTER, END))
    if not (m and c and a):
        raise RuntimeError(f"cannot parse upload-bench's output: {tail(out, 8)}")
    res = {"kind": "sessions", "argv": argv[1:], "sessions": int(m[1]),
           "session_bytes": int(m[2]), "parallel": int(m[3]), "ok": int(m[4]),
           "failed": int(m[5]), "seconds": float(m[6]), "mib_s": float(m[7]),
           "commit_p50_ms": float(c[1]), "commit_p95_ms": float(c[2]),
           "commit_max_ms": float(c[3]), "upload_p50_ms": float(c[4]),
           "upload_p95_ms": float(c[5]), "retries": int(c[7]),
           "rss_after_mib": float(a[1]), "peak_mib": float(a[2]),
           "errors": [line.strip() for line in out.splitlines() if "error:" in line][:10]}
    if e:
        res["rss_at_end_mib"] = float(e[2])
    # After the burst, with its clients gone, upload-bench watches the
    # server's RSS for up to 60 s (older upload-bench binaries do not).
    idle, settled, unsettled = IDLE.search(out), SETTLED.search(out), UNSETTLED.search(out)
    if idle and (settled or unsettled):
        res["idle_mib"] = float(idle[1])
        res["settled_s"] = float(settled[2]) if settled else None
        res["settle_end_mib"] = float(settled[3]) if settled else float(unsettled[1])
    return res


def one_session(bench: Path, boxup: Path, work: Path, file: Path, parallel: int) -> dict:
    """The like-for-like reference: upload-bench uploading FILE once."""
    record = work / "upload-bench-single.jsonl"
    record.unlink(missing_ok=True)
    argv = [str(bench), "--boxup", str(boxup), "--work-dir", str(work), "--file", str(file),
            "--parallel", str(parallel), "--json", str(record)]
    try:
        _run(argv)
        lines = record.read_text().splitlines()
        if not lines:
            raise RuntimeError("upload-bench wrote no --json record")
        return dict(json.loads(lines[-1]), kind="upload_bench_single", argv=argv[1:])
    finally:
        record.unlink(missing_ok=True)


def print_burst(s: dict) -> None:
    print(f"  {s['sessions']} sessions x {s['session_bytes'] >> 20} MiB, {s['parallel']} PUTs "
          f"in flight each: {s['ok']} ok, {s['failed']} failed in {s['seconds']:.2f} s, "
          f"aggregate {s['mib_s']:.1f} MiB/s ({s['mib_s'] * 1.048576:.0f} MB/s)")
    print(f"  commit p50 {s['commit_p50_ms']:.1f} ms, p95 {s['commit_p95_ms']:.1f} ms, "
          f"max {s['commit_max_ms']:.1f} ms; upload p50 {s['upload_p50_ms']:.0f} ms, "
          f"p95 {s['upload_p95_ms']:.0f} ms; retries {s['retries']}")
    for err in s["errors"]:
        print(f"  {err}")
