"""boxup against this machine's limits and against its peers, side by side
in one run: ratios measured minutes apart on the same machine mean
something; numbers copied from different days and machines do not.

Run it through ../compare.sh, which installs the peers and makes the
directories. The items, in the order they are measured and printed:
  1 SHA-1 speed (the 4-pass ceiling)      5 peers: SDK, rclone, tus, nginx
  2 the test file (disk and tmpfs)        6 256 concurrent sessions
  3 dd with fdatasync (the disk's floor)  7 server memory after uploads
  4 boxup e2e, disk and tmpfs             8 boxup download
then the table and the targets. Every raw result is appended to RESULTS as
one JSON line. A failed item prints its error and the run goes on; the
exit status is 1 when anything failed (a MISS is not a failure).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import boxup_run  # noqa: E402
import machine  # noqa: E402
import peer_browser  # noqa: E402
import peer_nginx  # noqa: E402
import peer_rclone  # noqa: E402
import peer_sdk  # noqa: E402
import peer_tus  # noqa: E402
import report  # noqa: E402
import sessions  # noqa: E402
from measure import Result  # noqa: E402

ITEMS = ("dd", "tmpfs", "sdk", "browser", "rclone", "tus", "nginx", "sessions", "download")
MIB = 1 << 20


class Run:
    """What has been measured so far, and the RESULTS file."""

    def __init__(self, results: Path, skip: set[str]):
        self.results, self.skip = results, skip
        self.run_id = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.failures: list[str] = []
        self.d: dict = {"peers": []}

    def record(self, item: str, obj) -> None:
        if isinstance(obj, Result):
            obj = dict(dataclasses.asdict(obj), kind="result", mb_s=obj.mb_s,
                       client_cpu_s_per_gib=obj.cpu_per_gib(obj.client_cpu_s),
                       server_cpu_s_per_gib=obj.cpu_per_gib(obj.server_cpu_s))
        with open(self.results, "a") as f:
            f.write(json.dumps(dict(obj, run=self.run_id, item=item)) + "\n")

    def result(self, item: str, r: Result) -> Result:
        self.record(item, r)
        if r.error is not None:
            self.failures.append(f"{r.name}: {r.error}")
            print(f"  {r.name}: FAILED: {r.error}")
            return r
        client, server = r.cpu_per_gib(r.client_cpu_s), r.cpu_per_gib(r.server_cpu_s)
        server_s = "" if server is None else f", server {server:.2f}"
        print(f"  {r.name}: {r.mb_s:.0f} MB/s ({r.bytes >> 20} MiB in {r.seconds:.2f} s), "
              f"CPU-s/GiB client {client:.2f}{server_s}")
        if r.notes:
            print(f"    {r.notes}")
        return r

    def fail(self, item: str, what: str, error: Exception | str) -> str:
        text = f"{type(error).__name__}: {error}" if isinstance(error, Exception) else error
        self.failures.append(f"{what}: {text}")
        self.record(item, {"kind": "error", "what": what, "error": text})
        print(f"  {what}: FAILED: {text}")
        return text

    def wants(self, item: str) -> bool:
        if item in self.skip:
            print(f"  ({item}: skipped by SKIP)")
            return False
        return True


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def e2e(run: Run, a: argparse.Namespace, src_disk: Path, src_tmpfs: Path, sha1: str):
    """Item 4; returns the disk server (kept for items 5 and 8) or None."""
    section("4. boxup e2e: CLI -> boxup serve on loopback")
    server = None
    try:
        server = boxup_run.Server(a.boxup, a.scratch / "data-disk", a.scratch / "serve-disk.log")
        part = server.part_size(src_disk.stat().st_size)
        run.d["part_size"] = (part, "from the server's upload session for this size")
        print(f"  (a) data dir on disk {a.scratch}; part size {part / MIB:g} MiB "
              f"(asked from the server)")
        r, mem = boxup_run.upload(server, "boxup e2e, disk", src_disk, sha1,
                                  a.scratch / "state", True, "data dir on disk")
        run.d["disk"] = run.result("4a", r)
        mem["settle"] = boxup_run.settle(server, mem["idle_rss"])
        run.d["mem"], run.d["file_id"] = mem, mem.get("id")
        run.record("4a-memory", dict(mem, kind="memory"))
        print(f"    server RSS idle {mem['idle_rss'] / MIB:.1f} MiB, peak during upload "
              f"{mem['peak_rss'] / MIB:.1f} MiB" + ("" if mem["peak_is_own"] else
                                                    " (since start: VmHWM reset refused)"))
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        run.d["disk"] = Result.failed("boxup e2e, disk", run.fail("4a", "boxup e2e, disk", e))
    if not run.wants("tmpfs"):
        return server
    shm_server = None
    try:
        print(f"  (b) data dir and source on tmpfs {a.shm}")
        shm_server = boxup_run.Server(a.boxup, a.shm / "data", a.scratch / "serve-tmpfs.log")
        r, mem = boxup_run.upload(shm_server, "boxup e2e, tmpfs", src_tmpfs, sha1,
                                  a.scratch / "state", False,
                                  "data dir and source on /dev/shm (fsync is free there)")
        run.d["tmpfs"] = run.result("4b", r)
        print(f"    server peak RSS during upload {mem['peak_rss'] / MIB:.1f} MiB")
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        run.d["tmpfs"] = Result.failed("boxup e2e, tmpfs", run.fail("4b", "boxup e2e, tmpfs", e))
    finally:
        if shm_server:
            shm_server.stop()
        shutil.rmtree(a.shm / "data", ignore_errors=True)
    return server


def peers(run: Run, a: argparse.Namespace, server, src: Path, sha1: str) -> None:
    section("5. peers, same file, against boxup on disk")
    if run.wants("sdk"):
        machine.quiesce()
        r = (peer_sdk.run(server, src, sha1, a.venv_python) if server else
             Result.failed(peer_sdk.NAME, "no disk server (item 4a failed)"))
        run.d["peers"].append((run.result("5-sdk", r), "disk"))
    if run.wants("browser"):
        machine.quiesce()
        r = (peer_browser.run(server, src, sha1) if server else
             Result.failed(peer_browser.NAME, "no disk server (item 4a failed)"))
        run.d["peers"].append((run.result("5-browser", r), "disk"))
    if run.wants("rclone"):
        machine.quiesce()
        rclone, tls = peer_rclone.run(src, a.scratch, a.boxup)
        run.d["tls"] = run.result("5-rclone", tls)
        run.d["peers"].append((run.result("5-rclone", rclone), "tls"))
    if run.wants("tus"):
        machine.quiesce()
        r = peer_tus.run(src, a.scratch, a.node_dir, 8 * MIB)
        run.d["peers"].append((run.result("5-tus", r), "disk"))
    if run.wants("nginx"):
        for r in peer_nginx.run(src, a.scratch, sha1):
            run.d["peers"].append((run.result("5-nginx", r), "disk"))


def burst(run: Run, a: argparse.Namespace, src: Path) -> None:
    section("6. concurrent sessions (upload-bench, its own server on disk)")
    if not run.wants("sessions"):
        return
    try:
        machine.quiesce()
        single = sessions.one_session(a.upload_bench, a.boxup, a.scratch, src,
                                      boxup_run.PARALLEL)
        run.record("6-single", single)
        run.d["single"] = single
        print(f"  one session, upload-bench --file ({single['size'] >> 20} MiB) --parallel "
              f"{single['parallel']}: {single['mib_s']:.1f} MiB/s "
              f"({single['mib_s'] * MIB / 1e6:.0f} MB/s), commit {single['commit_ms']:.1f} ms")
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        run.d["single"] = run.fail("6-single", "upload-bench one session", e)
    try:
        machine.quiesce()
        b = sessions.burst(a.upload_bench, a.boxup, a.scratch)
        run.record("6-sessions", b)
        run.d["sessions"] = b
        sessions.print_burst(b)
        if b["failed"]:
            run.failures.append(f"sessions: {b['failed']} failed")
        single, disk = run.d.get("single"), run.d.get("disk")
        mb = b["mib_s"] * MIB / 1e6
        if isinstance(single, dict):
            print(f"  aggregate / upload-bench one session: {b['mib_s'] / single['mib_s']:.2f}")
        if disk is not None and disk.error is None:
            print(f"  aggregate / boxup e2e disk (item 4a, CLI): {mb / disk.mb_s:.2f}")
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        run.d["sessions"] = run.fail("6-sessions", "upload-bench sessions", e)


def memory(run: Run) -> None:
    section("7. server memory")
    b = run.d.get("sessions")
    if isinstance(b, dict):
        print(f"  upload-bench's server after {b['sessions']} sessions: RSS "
              f"{b['rss_after_mib']:.1f} MiB, peak (VmHWM) {b['peak_mib']:.1f} MiB")
        if "settled_s" in b:
            when = ("not within 60 s" if b["settled_s"] is None
                    else f"after {b['settled_s']:.1f} s")
            print(f"  idle before the burst {b['idle_mib']:.1f} MiB; back under 2 x idle, "
                  f"its clients gone: {when} ({b['settle_end_mib']:.1f} MiB)")
    mem = run.d.get("mem")
    if not mem:
        print("  item 4a's server: not measured")
        return
    st = mem["settle"]
    last = st["samples"][-1][1]
    print(f"  item 4a's server: idle {mem['idle_rss'] / MIB:.1f} MiB, peak during the upload "
          f"{mem['peak_rss'] / MIB:.1f} MiB, right after {st['samples'][0][1] / MIB:.1f} MiB")
    if st["settled_s"] is None:
        print(f"  not back under 2 x idle within 60 s ({last / MIB:.1f} MiB at the end)")
    else:
        print(f"  back under 2 x idle ({last / MIB:.1f} MiB) after {st['settled_s']:.0f} s")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for flag in ("boxup", "upload-bench", "scratch", "shm", "results", "venv-python",
                 "node-dir"):
        p.add_argument(f"--{flag}", type=Path, required=True)
    p.add_argument("--size", type=machine.parse_size, required=True)
    p.add_argument("--skip", default="")
    a = p.parse_args()
    skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    if skip - set(ITEMS):
        p.error(f"SKIP: unknown {sorted(skip - set(ITEMS))}; known: {','.join(ITEMS)}")
    run = Run(a.results, skip)
    print(f"boxup comparison {run.run_id} on {platform.node()}, {platform.platform()}, "
          f"{os.cpu_count()} cores\n  boxup {a.boxup}\n  upload-bench {a.upload_bench}\n"
          f"  scratch {a.scratch}, tmpfs {a.shm}, file {machine.human(a.size)}")

    section("1. SHA-1 speed, one core (and the cost of new page cache here)")
    run.d["sha1"] = s = machine.sha1_speed(a.scratch)
    run.record("1", s)
    machine.print_sha1_speed(s)

    section("2. test file")
    try:
        src, src_tmpfs, sha1 = machine.make_test_file(a.scratch, a.shm, a.size)
    except OSError as e:
        run.fail("2", "test file", e)
        return 1
    run.record("2", {"kind": "file", "size": a.size, "sha1": sha1})
    print(f"  {src} and {src_tmpfs}: {a.size} bytes, SHA-1 {sha1}")

    section("3. dd conv=fdatasync: the disk's durable-write floor")
    if run.wants("dd"):
        run.d["dd"] = run.result("3", machine.dd_floor(src, a.scratch))
        print(f"    dd CPU {run.d['dd'].client_cpu_s:.2f} s")

    server = e2e(run, a, src, src_tmpfs, sha1)
    try:
        peers(run, a, server, src, sha1)
        burst(run, a, src)
        memory(run)
        section("8. download (boxup download from the disk server, SHA-1 checked by the CLI)")
        if run.wants("download"):
            dl = (boxup_run.download(server, run.d["file_id"], a.size, sha1,
                                     a.scratch / "download.bin", a.scratch / "state")
                  if server and run.d.get("file_id") else
                  Result.failed("boxup download", "nothing to download (item 4a failed)"))
            run.d["download"] = run.result("8", dl)
            if dl.error is None:
                print(f"    {dl.mb_s / s['speed_mb_s']:.2f} of one core's SHA-1 "
                      f"({s['speed_mb_s']:.0f} MB/s)")
    finally:
        if server:
            server.stop()

    d = run.d
    d.setdefault("part_size", (8 * MIB, "assumed: the server was not asked"))
    section("TABLE")
    print("\n".join(report.table(d)))
    print()
    print("\n".join(report.targets(d)))
    print(f"\nraw results (JSON lines, run {run.run_id}): {a.results}")
    if run.failures:
        print(f"\n{len(run.failures)} failed:")
        for f in run.failures:
            print(f"  {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
