"""The nginx peer: one `curl -T` PUT to nginx's WebDAV module over loopback,
onto the same disk as boxup's data directory (the same setup as
../nginx-webdav.sh, driven from here so that it is measured like the rest).

It is the plain-HTTP floor: no sessions, no parts, no checksum, and no
fsync (nginx writes the body to a temp file and renames it). Two rows come
out: the PUT as nginx answers it, and the same with an fsync of the stored
file (and its directory) counted in, since boxup answers only after fsync.
The server's CPU is that of nginx's master and worker processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import machine
import measure
from boxup_run import tail
from measure import Result

NAME = "nginx {version} WebDAV PUT (curl -T)"


def nginx_version() -> str:
    proc = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
    return proc.stderr.strip().rsplit("/", 1)[-1] or "?"


def _pids(master: int) -> list[int]:
    """The master and its children (the workers)."""
    pids = [master]
    for task in Path(f"/proc/{master}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


def _cpu(master: int) -> float:
    total = 0.0
    for pid in _pids(master):
        try:
            total += measure.proc_cpu_s(pid)
        except OSError:
            pass  # a worker that just exited
    return total


def _config(d: Path, port: int) -> str:
    user = ""
    if os.geteuid() == 0:
        import grp
        import pwd
        user = (f"user {pwd.getpwuid(os.getuid()).pw_name} "
                f"{grp.getgrgid(os.getgid()).gr_name};")
    return f"""{user}
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_max_body_size 0;
    client_body_buffer_size 1m;
    client_body_temp_path {d}/tmp;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {d}/www;
        location / {{
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw;
        }}
    }}
}}
"""


def run(file: Path, work: Path, want_sha1: str) -> list[Result]:
    """[PUT as answered, PUT + fsync] of FILE to an nginx whose prefix is
    WORK/nginx (removed afterwards)."""
    names = [NAME.format(version="?"), NAME.format(version="?") + " + fsync"]
    if shutil.which("nginx") is None:
        return [Result.failed(n, "nginx is not installed (apt-get install nginx)") for n in names]
    names = [NAME.format(version=nginx_version()), NAME.format(version=nginx_version()) + " + fsync"]
    probe = subprocess.run(["nginx", "-V"], capture_output=True, text=True)
    if "with-http_dav_module" not in probe.stderr:
        return [Result.failed(n, "this nginx lacks the DAV module") for n in names]
    d = work / "nginx"
    shutil.rmtree(d, ignore_errors=True)
    for sub in ("www", "tmp", "logs"):
        (d / sub).mkdir(parents=True)
    port = measure.free_port()
    (d / "nginx.conf").write_text(_config(d, port))
    master = subprocess.Popen(["nginx", "-p", str(d), "-c", str(d / "nginx.conf"),
                               "-e", str(d / "logs" / "error.log")],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        measure.wait_for_port(port, master, "nginx")
        stored = d / "www" / "upload.bin"
        machine.quiesce()
        cpu0 = _cpu(master.pid)
        proc, wall, client, _ = measure.run_timed(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(file),
             f"http://127.0.0.1:{port}/upload.bin"])
        server = _cpu(master.pid) - cpu0
        if proc.returncode != 0 or proc.stdout.strip() not in ("201", "204"):
            raise RuntimeError(f"curl exited with status {proc.returncode}, HTTP "
                               f"{proc.stdout.strip()}: {tail(proc.stderr)}; "
                               f"{tail((d / 'logs' / 'error.log').read_text(), 3)}")
        start = time.monotonic()
        fd = os.open(stored, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        dfd = os.open(stored.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        sync_s = time.monotonic() - start
        got = measure.sha1_of(stored)
        if got != want_sha1:
            raise RuntimeError(f"stored copy has SHA-1 {got}, want {want_sha1}")
        size = file.stat().st_size
        common = dict(client_cpu_s=client, server_cpu_s=server,
                      verifies="none (we compare the stored SHA-1 afterwards)")
        return [Result(names[0], size, wall, durable=False,
                       notes="answered before any fsync (bytes in the page cache)", **common),
                Result(names[1], size, wall + sync_s, durable=True,
                       notes=f"PUT {wall:.2f} s + fsync of the file and its directory "
                             f"{sync_s:.2f} s", **common)]
    except (OSError, RuntimeError) as e:
        err = master.stderr.read() if master.poll() is not None else ""
        return [Result.failed(n, f"{e} {tail(err, 3) if err else ''}".strip()) for n in names]
    finally:
        if master.poll() is None:
            master.terminate()  # SIGTERM: fast shutdown of master and workers
            try:
                master.wait(timeout=15)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait()
        shutil.rmtree(d, ignore_errors=True)
