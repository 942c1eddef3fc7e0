"""The tus peer: what people self-host instead of Box when they want
resumable uploads, measured the way boxup is.

tus is the usual answer to "resumable uploads without a vendor", and its
reference pieces are @tus/server with @tus/file-store and tus-js-client,
all Node.js. They run stock (see peers/tus/*.mjs) so that the comparison
says what an ordinary deployment gets: one chunk at a time (file-store has
no concatenation extension, so tus-js-client cannot upload in parallel),
no checksum (file-store offers no checksum extension), and no fsync
(file-store writes the upload through fs.createWriteStream and never
syncs it, nor its .json metadata), so the bytes are only in the page cache
when the server answers the last PATCH.

The npm packages are installed with `npm ci` from the committed lockfile
into a directory outside the source tree (node_modules has no place in
the repository), once per lockfile: a stamp file holds the lockfile's
sha256.

    python3 peer_tus.py FILE [--chunk-size BYTES] [--node-dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure  # noqa: E402
from measure import Result  # noqa: E402

NAME = "tus (@tus/server file store + tus-js-client)"
ROOT = Path(__file__).resolve().parents[3]
PEER_DIR = ROOT / "crates" / "boxup-bench" / "peers" / "tus"
SOURCES = ("package.json", "package-lock.json", "server.mjs", "client.mjs")
STAMP = ".installed-lockfile-sha256"
NOTES = ("chunks of {chunk} MiB one at a time (file-store has no concatenation "
         "extension, so no parallel parts); file-store never fsyncs (bytes are "
         "in the page cache at success); no checksum extension")


def tail(text: str | None, lines: int = 6) -> str:
    """The last lines of a process's output, for an error message."""
    return " | ".join((text or "").strip().splitlines()[-lines:]) or "(no output)"


def _lock_sha256() -> str:
    return hashlib.sha256((PEER_DIR / "package-lock.json").read_bytes()).hexdigest()


def installed(node_dir: Path) -> bool:
    stamp = node_dir / STAMP
    return stamp.exists() and stamp.read_text().strip() == _lock_sha256()


def install(node_dir: Path) -> None:
    """Copies the peer's sources into node_dir and runs `npm ci` there,
    unless it already ran for this lockfile. Raises RuntimeError (with
    npm's last lines) on failure."""
    node_dir.mkdir(parents=True, exist_ok=True)
    # The scripts are copied every time (cheap), so that an edit to them
    # counts without a reinstall.
    for name in SOURCES:
        shutil.copyfile(PEER_DIR / name, node_dir / name)
    if installed(node_dir):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not on PATH")
    (node_dir / STAMP).unlink(missing_ok=True)
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                          cwd=node_dir, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"npm ci in {node_dir} failed with status "
                           f"{proc.returncode}: {tail(proc.stderr)}")
    (node_dir / STAMP).write_text(_lock_sha256() + "\n")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run(file: Path, work: Path, node_dir: Path, chunk_size: int) -> Result:
    """Uploads FILE to a fresh tus server (its data under WORK/tus-data,
    removed afterwards) and checks the stored bytes' SHA-1."""
    node = shutil.which("node")
    if node is None:
        return Result.failed(NAME, "node is not on PATH")
    try:
        install(node_dir)
    except (OSError, RuntimeError) as e:
        return Result.failed(NAME, f"install: {e}")

    data = work / "tus-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    log_path = work / "tus-server.log"
    port = measure.free_port()
    with open(log_path, "w") as log:
        server = subprocess.Popen([node, "server.mjs", str(port), str(data)],
                                  cwd=node_dir, stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            measure.wait_for_port(port, server, "tus server")
        except RuntimeError as e:
            return Result.failed(NAME, f"{e}: {tail(log_path.read_text())}")
        endpoint = f"http://127.0.0.1:{port}/files"
        proc, wall, client_cpu, server_cpu = measure.run_timed(
            [node, "client.mjs", str(file), endpoint, str(chunk_size)],
            cwd=node_dir, server_pid=server.pid)
        if proc.returncode != 0:
            return Result.failed(NAME, f"client exited with status {proc.returncode}: "
                                       f"{tail(proc.stderr)}; server: {tail(log_path.read_text(), 3)}")
        url = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        stored = data / url.rsplit("/", 1)[-1] if url else None
        if stored is None or not stored.is_file():
            return Result.failed(NAME, f"the client reported upload URL {url!r} but "
                                       f"{data} holds {sorted(p.name for p in data.iterdir())}")
        want, got = measure.sha1_of(file), measure.sha1_of(stored)
        if got != want:
            return Result.failed(NAME, f"stored file {stored.name} has SHA-1 {got}, want {want}")
        return Result(name=NAME, bytes=file.stat().st_size, seconds=wall,
                      client_cpu_s=client_cpu, server_cpu_s=server_cpu,
                      verifies="none (no checksum)", durable=False,
                      notes=NOTES.format(chunk=f"{chunk_size / (1 << 20):g}"))
    finally:
        _stop(server)
        shutil.rmtree(data, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--chunk-size", type=int, default=8 << 20,
                        help="tus-js-client chunkSize in bytes (default 8 MiB, Box's part size)")
    parser.add_argument("--node-dir", type=Path, default=ROOT / "target" / "bench-node" / "tus",
                        help="where npm installs the peer (default: %(default)s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="peer-tus-") as work:
        result = run(args.file.resolve(), Path(work), args.node_dir.resolve(), args.chunk_size)
    print(result)
    if result.error is None:
        client = result.cpu_per_gib(result.client_cpu_s)
        server = result.cpu_per_gib(result.server_cpu_s)
        print(f"{result.name}: {result.mb_s:.0f} MB/s, client {client:.2f} CPU-s/GiB, "
              f"server {server:.2f} CPU-s/GiB")
    return 0 if result.error is None else 1


if __name__ == "__main__":
    sys.exit(main())
