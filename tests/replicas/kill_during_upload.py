"""upload_big_file through a load balancer while a replica dies and returns.

Run by tests/replicas/run.sh with the interop virtualenv's Python (it needs
box-sdk-gen and requests):

    kill_during_upload.py --origin http://127.0.0.1:PORT --token TOKEN \\
        --access-log NGINX_ACCESS_LOG --work-dir DIR REPLICA_DIR...

Each REPLICA_DIR is one replica of the deployment behind --origin, run by
replica.sh: `port` holds its port, `pid` its server's pid, and while a file
`hold` exists replica.sh does not restart a server that died by SIGKILL.

The steps, each a condition polled with a deadline (no sleep stands in for
an event):

1. A random file of --size-mib MiB plus a few KiB (so that the last part is
   short) is written to --work-dir, its SHA-1 computed on the way.
2. box-sdk-gen's `chunked_uploads.upload_big_file` uploads it in a thread,
   configured as a Box user would: base URLs, a developer token and a
   retry strategy with enough attempts to ride out a dead replica.
3. Once a quarter of the parts are acknowledged, the replica that has a
   request in flight (an established connection on its port: nginx opens
   one per request) gets SIGKILL, with `hold` set. The test waits until its
   port refuses connections and the upload has stored another part through
   the survivors, then lifts `hold`: replica.sh starts it on the same port,
   and the test waits until it answers /healthz.
4. The upload must finish; the committed file's size and `sha1` must be the
   local file's. The kill must have cut at least one request off (seen by
   the SDK as a 502 or a dropped connection, then retried): otherwise the
   test proved nothing about a death mid-request, and it kills again, up to
   three times in all, while parts remain.
5. GET /2.0/files/{id} reports the same sha1; GET /2.0/files/{id}/content
   answers a redirect to a download link on the balancer, and the bytes
   behind it have the local file's length and SHA-1.
6. The restarted replica served requests again (the balancer's access log
   names it as upstream after its restart).

Exit status 0 when every check passed; the reasons are printed otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import socket
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import requests
import requests.adapters
from box_sdk_gen import BaseUrls, BoxClient, BoxDeveloperTokenAuth, NetworkSession
from box_sdk_gen.networking.box_network_client import BoxNetworkClient
from box_sdk_gen.networking.retries import BoxRetryStrategy

MiB = 1024 * 1024
TAIL_BYTES = 4321  # makes the last part short
MAX_KILLS = 3
# run.sh's nginx log_format `replicas`.
ACCESS_LINE = re.compile(
    r"^(?P<msec>[0-9.]+) \S+ \S+ \S+ upstream=(?P<addrs>.*?) upstream_status=(?P<statuses>.*?) request_time="
)


class Failure(Exception):
    pass


# --------------------------------------------------------------------------
# What the SDK sent and got, as seen by its requests session.


@dataclass
class Exchange:
    at: float
    method: str
    url: str
    status: int  # 0: no response (connection error)
    detail: str = ""


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exchanges: List[Exchange] = []
        self.session_json: Optional[dict] = None

    def hook(self, response: requests.Response, *args, **kwargs) -> None:
        req = response.request
        detail = ""
        if response.status_code >= 400:
            detail = response.text[:300].replace("\n", " ")
        elif req.method == "POST" and req.url.endswith("/files/upload_sessions"):
            with self.lock:
                self.session_json = response.json()
        with self.lock:
            self.exchanges.append(
                Exchange(time.time(), req.method, req.url, response.status_code, detail)
            )

    def error(self, request: requests.PreparedRequest, error: Exception) -> None:
        with self.lock:
            self.exchanges.append(Exchange(time.time(), request.method, request.url, 0, repr(error)))

    def snapshot(self) -> List[Exchange]:
        with self.lock:
            return list(self.exchanges)

    def parts_acked(self) -> int:
        return sum(
            1 for e in self.snapshot() if e.method == "PUT" and e.status == 200
        )

    def failures_since(self, t: float) -> List[Exchange]:
        return [e for e in self.snapshot() if e.at >= t and (e.status == 0 or e.status >= 500)]


RECORDER = Recorder()


class RecordingAdapter(requests.adapters.HTTPAdapter):
    def send(self, request, *args, **kwargs):
        try:
            return super().send(request, *args, **kwargs)
        except requests.RequestException as e:
            RECORDER.error(request, e)
            raise


def make_client(origin: str, token: str) -> BoxClient:
    session = requests.Session()
    session.mount("http://", RecordingAdapter())
    session.hooks["response"].append(RECORDER.hook)
    return BoxClient(
        auth=BoxDeveloperTokenAuth(token=token),
        network_session=NetworkSession(
            base_urls=BaseUrls(
                base_url=origin,
                upload_url=f"{origin}/api",
                oauth_2_url=f"{origin}/api/oauth2",
            ),
            # Up to 6 attempts for a 5xx (nginx's 502 for a request whose
            # replica died) and 6 retries for a dropped connection, with
            # backoff from 0.25 s: a dead replica is out of nginx's rotation
            # by the first retry.
            retry_strategy=BoxRetryStrategy(
                max_attempts=6, retry_base_interval=0.25, max_retries_on_exception=6
            ),
            network_client=BoxNetworkClient(requests_session=session),
        ),
    )


# --------------------------------------------------------------------------
# Replicas.


class Replica:
    def __init__(self, directory: str):
        self.dir = Path(directory)
        self.name = self.dir.name
        self.port = int((self.dir / "port").read_text().strip())

    def pid(self) -> int:
        return int((self.dir / "pid").read_text().strip())

    def hold(self, on: bool) -> None:
        path = self.dir / "hold"
        if on:
            path.touch()
        else:
            path.unlink(missing_ok=True)

    def refuses(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return False
        except ConnectionRefusedError:
            return True
        except OSError:
            return False

    def healthy(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.port}/healthz"
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except Exception:  # noqa: BLE001 - polled until a deadline
            return False


def ports_in_use(ports: List[int]) -> List[int]:
    """The ports among `ports` with an established connection (server side)."""
    busy = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            port = int(local.rsplit(":", 1)[1], 16)
            if state == "01" and port in ports:
                busy.add(port)
    return sorted(busy)


def wait_for(condition, timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------


def write_random_file(path: Path, size: int) -> str:
    sha1 = hashlib.sha1()
    left = size
    with open(path, "wb") as f:
        while left:
            chunk = os.urandom(min(left, 8 * MiB))
            sha1.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return sha1.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--origin", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--access-log", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("replicas", nargs="+")
    args = ap.parse_args()
    origin = args.origin.rstrip("/")
    replicas = [Replica(d) for d in args.replicas]
    by_port = {r.port: r for r in replicas}
    failures: List[str] = []

    size = args.size_mib * MiB + TAIL_BYTES
    path = Path(args.work_dir) / "big.bin"
    t0 = time.monotonic()
    sha1 = write_random_file(path, size)
    print(f"kill test: {size} random bytes, sha1 {sha1} ({time.monotonic() - t0:.1f} s)")

    client = make_client(origin, args.token)
    name = f"replicas-{uuid.uuid4().hex[:12]}.bin"
    outcome: dict = {}

    def upload() -> None:
        try:
            with open(path, "rb") as f:
                outcome["file"] = client.chunked_uploads.upload_big_file(f, name, size, "0")
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            outcome["error"] = e

    started = time.monotonic()
    thread = threading.Thread(target=upload, name="upload_big_file", daemon=True)
    thread.start()

    def upload_over() -> bool:
        return not thread.is_alive()

    kills = []  # (replica, kill time, restart time)
    try:
        session = wait_for(
            lambda: RECORDER.session_json or (upload_over() and {"failed": True}),
            60,
            "the upload session",
        )
        if "failed" in session:
            raise Failure("upload_big_file ended without creating an upload session")
        total_parts = session["total_parts"]
        print(
            f"kill test: session {session['id']}, {total_parts} parts of {session['part_size']} bytes"
        )
        kill_after = max(2, total_parts // 4)
        wait_for(
            lambda: RECORDER.parts_acked() >= kill_after or upload_over(),
            300,
            f"{kill_after} parts to be acknowledged",
        )
        while len(kills) < MAX_KILLS and not upload_over():
            # The replica with a request in flight: nginx opens a connection
            # per request, so an established one on its port is a request.
            busy = wait_for(
                lambda: ports_in_use(list(by_port)) or upload_over(),
                60,
                "a part upload in flight",
                interval=0.005,
            )
            if busy is True:
                break
            victim = by_port[busy[0]]
            victim.hold(True)
            pid = victim.pid()
            killed_at = time.time()
            os.kill(pid, signal.SIGKILL)
            acked = RECORDER.parts_acked()
            print(
                f"kill test: SIGKILL {victim.name} (pid {pid}, port {victim.port}) "
                f"after {acked} acknowledged parts"
            )
            wait_for(victim.refuses, 10, f"{victim.name}'s port to refuse connections")
            # The upload goes on through the two others while it is down.
            wait_for(
                lambda: RECORDER.parts_acked() > acked or upload_over(),
                120,
                "another part to be acknowledged while a replica is down",
            )
            victim.hold(False)
            wait_for(lambda: victim.pid() != pid, 10, f"replica.sh to restart {victim.name}")
            wait_for(victim.healthy, 60, f"the restarted {victim.name} to answer /healthz")
            restarted_at = time.time()
            kills.append((victim, killed_at, restarted_at))
            print(
                f"kill test: {victim.name} restarted on port {victim.port} (pid {victim.pid()}) "
                f"{restarted_at - killed_at:.1f} s after the kill"
            )
            cut = RECORDER.failures_since(killed_at)
            if cut:
                break
            print("kill test: the kill cut no request off (it had just ended); killing again")
        wait_for(upload_over, 600, "upload_big_file to return")
    except Failure as e:
        failures.append(str(e))
    finally:
        for r in replicas:
            r.hold(False)
    elapsed = time.monotonic() - started

    file = outcome.get("file")
    if "error" in outcome:
        failures.append(f"upload_big_file raised {outcome['error']!r}")
    elif file is None and not failures:
        failures.append("upload_big_file returned nothing")
    if file is not None:
        print(
            f"kill test: upload_big_file returned file {file.id} after {elapsed:.1f} s "
            f"({size / MiB / elapsed:.1f} MiB/s)"
        )
        if file.size != size:
            failures.append(f"committed size {file.size}, uploaded {size}")
        if file.sha_1 != sha1:
            failures.append(f"committed sha1 {file.sha_1}, uploaded {sha1}")

    if kills:
        cut = RECORDER.failures_since(kills[0][1])
        print(f"kill test: {len(cut)} exchange(s) failed after the first kill and were retried:")
        for e in cut:
            print(f"    {e.method} {e.url} -> {e.status or 'no response'} {e.detail}")
        if not cut:
            failures.append(
                f"{len(kills)} kill(s) of a replica with a request in flight cut no request off"
            )
    elif not failures:
        failures.append("the upload ended before a replica could be killed")

    if file is not None:
        auth = {"Authorization": f"Bearer {args.token}"}
        try:
            info = requests.get(
                f"{origin}/2.0/files/{file.id}", headers=auth, params={"fields": "sha1,size"},
                timeout=60,
            )
            info.raise_for_status()
            if info.json().get("sha1") != sha1 or info.json().get("size") != size:
                failures.append(f"GET /2.0/files/{file.id} answered {info.json()}")
            first = requests.get(
                f"{origin}/2.0/files/{file.id}/content", headers=auth,
                allow_redirects=False, timeout=60,
            )
            location = first.headers.get("Location", "")
            if first.status_code != 302 or not location.startswith(origin + "/"):
                failures.append(
                    f"GET /2.0/files/{file.id}/content answered {first.status_code} "
                    f"Location {location!r}, not a redirect to the balancer"
                )
            else:
                got = hashlib.sha1()
                length = 0
                t1 = time.monotonic()
                with requests.get(location, stream=True, timeout=120) as body:
                    if body.status_code != 200:
                        failures.append(f"GET {location} answered {body.status_code}")
                    for chunk in body.iter_content(1024 * 1024):
                        got.update(chunk)
                        length += len(chunk)
                print(
                    f"kill test: downloaded {length} bytes by the redirect in "
                    f"{time.monotonic() - t1:.1f} s, sha1 {got.hexdigest()}"
                )
                if length != size or got.hexdigest() != sha1:
                    failures.append(
                        f"downloaded {length} bytes with sha1 {got.hexdigest()}, "
                        f"uploaded {size} with sha1 {sha1}"
                    )
        except requests.RequestException as e:
            failures.append(f"checking the committed file: {e!r}")

    for victim, _, restarted_at in kills:
        served = 0
        try:
            for line in Path(args.access_log).read_text().splitlines():
                m = ACCESS_LINE.match(line)
                if not m or float(m["msec"]) < restarted_at:
                    continue
                # With a retry, "a, b" and "502, 200": the last one answered.
                addrs = [a.strip() for a in m["addrs"].split(",")]
                statuses = [s.strip() for s in m["statuses"].split(",")]
                if addrs[-1] == f"127.0.0.1:{victim.port}" and statuses[-1] not in ("", "-", "502"):
                    served += 1
        except OSError as e:
            failures.append(f"cannot read the access log: {e}")
        print(f"kill test: {victim.name} served {served} request(s) after its restart")
        if served == 0:
            failures.append(f"the restarted {victim.name} served no request")

    path.unlink(missing_ok=True)
    if failures:
        for e in RECORDER.snapshot()[-20:]:
            print(f"    {e.method} {e.url} -> {e.status or 'no response'} {e.detail}")
        for f in failures:
            print(f"kill test: FAIL {f}")
        return 1
    print("kill test: PASS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
