"""What this machine can do at best, measured in the same run as boxup, so
that every ratio the comparison prints is against this machine and this
moment rather than a number remembered from elsewhere.

Two references: how fast one core computes SHA-1 (boxup's whole protocol
is built on SHA-1: the client hashes each part and the whole file, the
server checks each part and the whole file, so four passes per byte end to
end), and how fast the disk takes a durable write (dd with fdatasync). The
test file is made here too.

On a virtual machine whose kernel hands freed memory back to the host
(free page reporting, as on this project's machines), writing new page
cache into memory the guest has not used lately costs far more CPU than
writing it into memory just freed, and that cost lands on whichever
process writes: the server, dd, a peer. It is measured here (a file
written twice, the second time into the pages the first freed), and
`quiesce` waits before each timed run until what the previous step freed
has gone back, so that every run pays the same and none rides on its
predecessor's freed pages.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import subprocess
import time
from pathlib import Path

import measure
from measure import Result

MIB = 1 << 20
GIB = 1 << 30
# SHA-1 passes over each byte in a boxup upload: the client's per-part and
# whole-file hashes, the server's per-part check and whole-file hash.
PASSES = 4
# Where the kernel reports free pages to a hypervisor, it does so about two
# seconds after they are freed (page_reporting's delay); a little more here.
PAGE_REPORTING = Path("/sys/module/page_reporting").exists()
REPORTING_WAIT_S = 4.0


def parse_size(text: str) -> int:
    """'1G', '256M', '4096' -> bytes (K, M, G, T are binary)."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGTkmgt]?)i?[Bb]?\s*", text)
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"{text!r} is not a size like 4096, 256M or 1G")
    shift = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2).upper()]
    return int(m.group(1)) << shift


def human(size: int) -> str:
    for shift, unit in ((40, "T"), (30, "G"), (20, "M"), (10, "K")):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift}{unit}"
    return f"{size}B"


def openssl_sha1_mb_s(seconds: int = 3) -> tuple[float, str]:
    """One core's SHA-1 speed per `openssl speed -evp sha1` on 1 MiB blocks,
    in MB/s; and the OpenSSL version."""
    proc = subprocess.run(["openssl", "speed", "-evp", "sha1", "-bytes", str(MIB),
                           "-seconds", str(seconds)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    # The last table line: "sha1   2176077.08k" (1000s of bytes per second).
    rows = [line.split() for line in proc.stdout.splitlines()
            if line.lower().startswith("sha1")]
    if proc.returncode != 0 or not rows or not rows[-1][-1].endswith("k"):
        raise RuntimeError(f"openssl speed exited with status {proc.returncode}: "
                           f"{(proc.stderr or proc.stdout).strip()[-300:]}")
    version = subprocess.run(["openssl", "version"], capture_output=True,
                             text=True).stdout.strip()
    return float(rows[-1][-1][:-1]) / 1000, version


def hashlib_sha1_mb_s(size: int = 256 * MIB, tries: int = 3) -> float:
    """Python's hashlib.sha1 over one in-memory buffer, best of a few."""
    buf = memoryview(os.urandom(size))
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        hashlib.sha1(buf).digest()
        best = min(best, time.perf_counter() - start)
    return size / best / 1e6


def quiesce() -> None:
    """Before each timed run: earlier writes flushed, and (see the module
    docstring) freed memory given back, so that runs start alike."""
    os.sync()
    if PAGE_REPORTING:
        # Waiting out the kernel's free-page reporting delay; nothing to poll.
        time.sleep(REPORTING_WAIT_S)


def _write_s(path: Path, size: int) -> float:
    """CPU seconds of writing SIZE bytes into a new file's page cache (no
    fsync), the file then removed."""
    cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])  # noqa: E731
    chunk = os.urandom(8 * MIB)
    try:
        with open(path, "wb") as f:
            cpu0 = cpu()
            for _ in range(size // len(chunk)):
                f.write(chunk)
            return cpu() - cpu0
    finally:
        path.unlink(missing_ok=True)


def page_cache_cost(work: Path, size: int = 256 * MIB) -> dict:
    """CPU-seconds per GiB of writing new page cache into memory the guest
    has not used lately, then into the memory just freed."""
    quiesce()
    fresh = _write_s(work / "page-cache-probe.bin", size)
    recycled = _write_s(work / "page-cache-probe.bin", size)
    return {"fresh_cpu_s_per_gib": fresh * GIB / size,
            "recycled_cpu_s_per_gib": recycled * GIB / size,
            "page_reporting": PAGE_REPORTING}


def sha1_speed(work: Path) -> dict:
    """Item 1: the SHA-1 references. speed_mb_s is openssl's when it could
    be measured (hashlib's otherwise, and `source` says so)."""
    out: dict = {"kind": "sha1_speed", "cores": os.cpu_count() or 1}
    out["hashlib_mb_s"] = hashlib_sha1_mb_s()
    try:
        out["openssl_mb_s"], out["openssl"] = openssl_sha1_mb_s()
        out["speed_mb_s"], out["source"] = out["openssl_mb_s"], "openssl"
    except (OSError, RuntimeError) as e:
        out["openssl_error"] = str(e)
        out["speed_mb_s"], out["source"] = out["hashlib_mb_s"], "hashlib (openssl failed)"
    speed = out["speed_mb_s"]
    out["ceiling_mb_s"] = out["cores"] * speed / PASSES
    out["four_passes_cpu_s_per_gib"] = PASSES * GIB / (speed * 1e6)
    out["page_cache"] = page_cache_cost(work)
    return out


def print_sha1_speed(s: dict) -> None:
    if "openssl_mb_s" in s:
        print(f"  openssl speed -evp sha1 (1 MiB blocks, 3 s): {s['openssl_mb_s']:.0f} MB/s "
              f"on one core ({s['openssl']})")
    else:
        print(f"  openssl speed failed: {s['openssl_error']}")
    print(f"  python hashlib.sha1 over a 256 MiB buffer: {s['hashlib_mb_s']:.0f} MB/s "
          f"(cross-check: {s['hashlib_mb_s'] / s['speed_mb_s']:.2f} of the reference)")
    print(f"  reference: {s['speed_mb_s']:.0f} MB/s ({s['source']}); cores: {s['cores']}")
    print(f"  4-pass ceiling = {s['cores']} x {s['speed_mb_s']:.0f} / {PASSES} = "
          f"{s['ceiling_mb_s']:.0f} MB/s")
    print(f"  four SHA-1 passes per GiB = {s['four_passes_cpu_s_per_gib']:.2f} CPU-s")
    t = s["page_cache"]
    print(f"  writing new page cache (no fsync): {t['fresh_cpu_s_per_gib']:.2f} CPU-s/GiB into "
          f"memory unused lately, {t['recycled_cpu_s_per_gib']:.2f} into memory just freed")
    if t["page_reporting"]:
        print(f"    free page reporting is on: freed memory goes back to the host within seconds, "
              f"so a writer usually pays the first figure; each timed run starts "
              f"{REPORTING_WAIT_S:g} s after the previous step so that all pay alike")


def make_test_file(work: Path, shm: Path, size: int) -> tuple[Path, Path, str]:
    """Item 2: SIZE random bytes in WORK (the disk) and a copy in SHM
    (tmpfs); returns both paths and the SHA-1."""
    disk = work / f"source-{human(size)}.bin"
    with open(disk, "wb") as f:
        left = size
        while left:
            n = min(left, 8 * MIB)
            f.write(os.urandom(n))
            left -= n
    tmpfs = shm / disk.name
    shutil.copyfile(disk, tmpfs)
    return disk, tmpfs, measure.sha1_of(disk)


def dd_floor(source: Path, work: Path) -> Result:
    """Item 3: `dd bs=8M conv=fdatasync` of the test file onto the disk
    under test: the fastest durable write a server could hope for."""
    target = work / "dd.bin"
    quiesce()
    try:
        proc, wall, cpu, _ = measure.run_timed(
            ["dd", f"if={source}", f"of={target}", "bs=8M", "conv=fdatasync"])
        if proc.returncode != 0:
            return Result.failed("dd", f"dd exited with status {proc.returncode}: "
                                       f"{proc.stderr.strip()[-300:]}")
        return Result("dd bs=8M conv=fdatasync (durable-write floor)", source.stat().st_size,
                      wall, cpu, None, verifies="none", durable=True,
                      notes=proc.stderr.strip().splitlines()[-1])
    finally:
        target.unlink(missing_ok=True)
