"""The rclone peer: rclone's Box backend, the client most people already
use to move big files into Box, uploading to boxup, and boxup's own CLI
over the very same path, so the two clients are compared as equals.

rclone hardcodes Box's hosts (api.box.com, upload.box.com), so it can only
reach boxup the way tests/rclone/run.sh arranges it: private network,
mount and PID namespaces (unshare), a hosts file bind-mounted over
/etc/hosts that maps Box's names to 127.0.0.1, and `boxup serve` on
127.0.0.1:443 with a certificate from a CA made for the run. The CA is
given to rclone with --ca-cert and to the boxup CLI with SSL_CERT_FILE.
Both clients thus pay for TLS, and for the same server.

The measuring happens inside the namespaces: this file re-runs itself
there (`--inside`), because the server's CPU is read from /proc, and the
namespace's /proc (mounted with --mount-proc) is the one where the
server's pid means something. The inner run prints one JSON line per
result; the outer `run` turns them back into Results. The PID namespace
ends the server even if the inner run dies.

Each stored file's SHA-1 is taken from the server's own listing
(GET /2.0/folders/0/items?fields=sha1), which boxup computes from the
bytes it received and checked against the client's Digest at commit.

    python3 peer_rclone.py FILE BOXUP_BIN
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure  # noqa: E402
from measure import Result  # noqa: E402

BOX_HOSTS = ("api.box.com", "upload.box.com", "app.box.com", "account.box.com",
             "dl.boxcloud.com", "public.boxcloud.com")
BOXUP_NAME = "boxup CLI (TLS, same path as rclone)"
# Parts in flight: rclone's Box backend takes one token per part from a
# dispenser of --transfers tokens (default 4); the boxup CLI's --parallel
# defaults to 4 too. The upload cutoff 50 MiB is rclone's default and its
# minimum, so any file above it takes an upload session.
PARALLEL = 4
RCLONE_OPTS = ["--transfers", str(PARALLEL), "--box-upload-cutoff", "50Mi",
               "--retries", "1", "--low-level-retries", "1"]


def tail(text: str | None, lines: int = 6) -> str:
    return " | ".join((text or "").strip().splitlines()[-lines:]) or "(no output)"


def rclone_name() -> str:
    try:
        first = subprocess.run(["rclone", "version"], capture_output=True, text=True,
                               stdin=subprocess.DEVNULL).stdout.split("\n", 1)[0]
        version = first.split()[1].lstrip("v").split("-")[0]
    except (OSError, IndexError):
        version = "?"
    return f"rclone {version} Box backend (TLS)"


# --- outside the namespaces ------------------------------------------------

def _ensure_rclone() -> None:
    if shutil.which("rclone"):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "rclone"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        proc = subprocess.run(install, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"apt-get install rclone failed: {tail(proc.stderr)}")


def _make_pki(pki: Path) -> None:
    """A CA for this run and a server certificate for every Box host (the
    same certificates as tests/rclone/run.sh makes)."""
    pki.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    sans = ",".join(f"DNS:{h}" for h in BOX_HOSTS) + ",DNS:localhost,IP:127.0.0.1"
    (pki / "server.ext").write_text(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                                    "extendedKeyUsage=serverAuth\n")
    steps = [
        ["openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=boxup bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=api.box.com"],
        ["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-set_serial", "0x" + secrets.token_hex(8), "-days", "2", "-extfile", "server.ext",
         "-out", "server.pem"],
    ]
    for argv in steps:
        proc = subprocess.run(argv, cwd=pki, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} failed: {tail(proc.stderr)}")


def run(file: Path, work: Path, boxup_bin: Path) -> list[Result]:
    """rclone, then the boxup CLI, uploading FILE to one `boxup serve`
    over TLS inside private namespaces (scratch space under WORK/rclone,
    removed afterwards)."""
    names = [rclone_name(), BOXUP_NAME]
    scratch = work / "rclone"
    try:
        for tool in ("unshare", "openssl", "ip", "mount"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is required but not on PATH")
        _ensure_rclone()
        names[0] = rclone_name()
        shutil.rmtree(scratch, ignore_errors=True)
        _make_pki(scratch / "pki")
        proc = subprocess.run(
            ["unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc",
             "--", sys.executable, str(Path(__file__).resolve()), "--inside",
             str(file.resolve()), str(boxup_bin.resolve()), str(scratch)],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800)
        results = [Result(**json.loads(line)) for line in proc.stdout.splitlines()
                   if line.startswith("{")]
        if len(results) != 2:
            raise RuntimeError(f"the namespaced run exited with status {proc.returncode} "
                               f"and {len(results)} results: {tail(proc.stderr)}")
        return results
    except (OSError, RuntimeError, ValueError, TypeError, subprocess.TimeoutExpired) as e:
        return [Result.failed(name, str(e)) for name in names]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --- inside the namespaces ------------------------------------------------

class Inside:
    """The server and both clients, in the namespaces made by `run`."""

    def __init__(self, file: Path, boxup_bin: Path, w: Path):
        self.file, self.bin, self.w = file, boxup_bin, w
        self.ca = w / "pki" / "ca.pem"
        self.token = secrets.token_hex(24)
        self.tls = ssl.create_default_context(cafile=str(self.ca))
        home = w / "home"
        home.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        self.env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                        XDG_CACHE_HOME=str(w / "cache"))
        self.server: subprocess.Popen | None = None

    def setup(self) -> None:
        """Loopback up, Box's names on it, the server listening on :443."""
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        hosts = self.w / "hosts"
        hosts.write_text(f"127.0.0.1 localhost {' '.join(BOX_HOSTS)}\n::1 localhost\n")
        subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)
        self.log = self.w / "server.log"
        with open(self.log, "w") as log:
            self.server = subprocess.Popen(
                [str(self.bin), "serve", "--bind", "127.0.0.1:443",
                 "--data-dir", str(self.w / "data"), "--token", f"{self.token}=bench",
                 "--tls-cert", str(self.w / "pki" / "server.pem"),
                 "--tls-key", str(self.w / "pki" / "server.key"), "--shutdown-grace", "5s"],
                env=dict(self.env, RUST_LOG="warn", NO_COLOR="1"),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            measure.wait_for_port(443, self.server, "boxup serve")
            # One request over TLS by name: the certificate, the hosts file
            # and the server are all right before anything is timed.
            urllib.request.urlopen("https://api.box.com/healthz", context=self.tls,
                                   timeout=10).read()
        except (RuntimeError, OSError) as e:
            raise RuntimeError(f"{e}; server log: {tail(self.log.read_text())}") from None
        (self.w / "rclone.conf").write_text(
            "[box]\ntype = box\ntoken = " + json.dumps({
                "access_token": self.token, "token_type": "Bearer",
                "refresh_token": "unused", "expiry": "2099-01-01T00:00:00Z"}) + "\n")

    def stop(self) -> None:
        if self.server and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()

    def stored_sha1(self, name: str) -> str | None:
        req = urllib.request.Request(
            "https://api.box.com/2.0/folders/0/items?fields=name,sha1&limit=1000",
            headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, context=self.tls, timeout=60) as res:
            entries = json.load(res)["entries"]
        return next((e.get("sha1") for e in entries if e["name"] == name), None)

    def timed(self, name: str, argv: list[str], env: dict, stored: str, want: str,
                verifies: str, notes: str) -> Result:
        proc, wall, client, server = measure.run_timed(argv, env=env, cwd=self.w,
                                                       server_pid=self.server.pid)
        if proc.returncode != 0:
            return Result.failed(name, f"exited with status {proc.returncode}: "
                                       f"{tail(proc.stderr)}")
        got = self.stored_sha1(stored)
        if got != want:
            return Result.failed(name, f"the server holds {stored} with SHA-1 {got}, want {want}")
        return Result(name=name, bytes=self.file.stat().st_size, seconds=wall,
                      client_cpu_s=client, server_cpu_s=server, verifies=verifies,
                      durable=True, notes=notes)

    def rclone(self, want: str) -> Result:
        stored = "rclone-" + self.file.name
        argv = ["rclone", "--config", str(self.w / "rclone.conf"), "--ca-cert", str(self.ca),
                "--cache-dir", str(self.w / "cache"), *RCLONE_OPTS,
                "copyto", str(self.file), f"box:{stored}"]
        return self.timed(
            rclone_name(), argv, self.env, stored, want,
            verifies="SHA-1 per part (Digest) and whole file at commit; "
                     "then compares the stored SHA-1",
            notes=f"rclone copyto {' '.join(RCLONE_OPTS)} (--transfers = parts in flight); "
                  "server fsyncs each part and the commit")

    def boxup(self, want: str) -> Result:
        stored = "boxup-" + self.file.name
        argv = [str(self.bin), "upload", str(self.file), "--name", stored,
                "--api-url", "https://api.box.com", "--parallel", str(PARALLEL),
                "--state-dir", str(self.w / "state"), "--quiet", "--json"]
        env = dict(self.env, SSL_CERT_FILE=str(self.ca), BOX_TOKEN=self.token)
        return self.timed(
            BOXUP_NAME, argv, env, stored, want,
            verifies="SHA-1 per part (Digest) and whole file at commit",
            notes=f"boxup upload --parallel {PARALLEL} via upload.box.com; CA from "
                  "SSL_CERT_FILE; server fsyncs each part and the commit")


def inside(file: Path, boxup_bin: Path, w: Path) -> int:
    names = [rclone_name(), BOXUP_NAME]
    job = Inside(file, boxup_bin, w)
    try:
        job.setup()
        # Hashing the source first also puts it in the page cache, so
        # neither client pays for the first read from disk.
        want = measure.sha1_of(file)
        results = [job.rclone(want), job.boxup(want)]
    except (OSError, RuntimeError, ValueError, KeyError, subprocess.CalledProcessError) as e:
        results = [Result.failed(name, f"inside the namespaces: {e}") for name in names]
    finally:
        job.stop()
    for result in results:
        print(json.dumps(dataclasses.asdict(result)), flush=True)
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--inside"] and len(sys.argv) == 5:
        return inside(*(Path(a) for a in sys.argv[2:5]))
    if len(sys.argv) != 3:
        print(__doc__.rsplit("\n\n", 1)[1], file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="peer-rclone-") as work:
        results = run(Path(sys.argv[1]), Path(work), Path(sys.argv[2]))
    for r in results:
        print(r)
        if r.error is None:
            print(f"{r.name}: {r.mb_s:.0f} MB/s, client {r.cpu_per_gib(r.client_cpu_s):.2f} "
                  f"CPU-s/GiB, server {r.cpu_per_gib(r.server_cpu_s):.2f} CPU-s/GiB")
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
