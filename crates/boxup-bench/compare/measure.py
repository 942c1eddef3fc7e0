"""What every line of the comparison is made of: a timed client process,
the CPU a server process spent meanwhile, and the check that the bytes
arrived intact.

CPU is read from /proc (utime + stime of a process, or of a finished
child through getrusage), never estimated: the ratios the benchmark
prints are CPU-seconds per GiB as the kernel accounted them.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import socket
import subprocess
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
GIB = 1 << 30


@dataclasses.dataclass
class Result:
    """One upload (or download) by one tool."""

    name: str
    bytes: int
    seconds: float
    client_cpu_s: float
    server_cpu_s: float | None
    # What the tool checks end to end, in a few words ("SHA-1 per part and
    # whole file", "none"), and whether the bytes are durable (fsynced)
    # when the tool reports success.
    verifies: str
    durable: bool
    # Set when the result could not be measured; the line prints the reason.
    error: str | None = None
    notes: str = ""

    @property
    def mb_s(self) -> float:
        return self.bytes / self.seconds / 1e6 if self.seconds else 0.0

    def cpu_per_gib(self, cpu: float | None) -> float | None:
        return None if cpu is None else cpu / (self.bytes / GIB)

    @classmethod
    def failed(cls, name: str, error: str) -> "Result":
        return cls(name, 0, 0.0, 0.0, None, "", False, error=error)


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name may contain spaces: fields start after the ')'.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_bytes(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a live process, in bytes."""
    now = peak = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    return now, peak


def reset_peak_rss(pid: int) -> bool:
    """Resets VmHWM (Linux ≥ 4.0); False where the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(argv: list[str], *, env: dict | None = None, cwd: Path | None = None,
              server_pid: int | None = None) -> tuple[subprocess.CompletedProcess, float, float, float | None]:
    """Runs a client to completion; returns (process, wall seconds, client
    CPU seconds, server CPU seconds spent meanwhile).

    Client CPU comes from getrusage(RUSAGE_CHILDREN) around the wait, so
    it includes the client's own children and must not overlap another
    child's exit.
    """
    cpu0 = children_cpu_s()
    server0 = proc_cpu_s(server_pid) if server_pid else None
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    wall = time.monotonic() - start
    client = children_cpu_s() - cpu0
    server = proc_cpu_s(server_pid) - server0 if server_pid else None
    return proc, wall, client, server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    """Waits until something accepts on 127.0.0.1:port (the process must
    stay alive meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f} s")
            # Polling a socket that is about to open: a short pause between attempts.
            time.sleep(0.05)


def sha1_of(path: Path) -> str:
    import hashlib
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha1").hexdigest()
