"""Times the official SDK's `upload_big_file` against `boxup serve`.

The baseline for boxup's own client (`client-bench`): the same file size,
the same server, the unmodified `box-sdk-gen` from PyPI. Not a test.

    bash tests/interop/run.sh              # once: builds boxup, makes the venv
    target/interop-venv/bin/python tests/interop/bench_upload_big_file.py \
        --boxup target/release/boxup --size-mib 1024 --repeat 2
"""

import argparse
import hashlib
import os
import socket
import subprocess
import tempfile
import time

from box_sdk_gen import BaseUrls, BoxClient, BoxDeveloperTokenAuth, NetworkSession


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boxup", default="target/release/boxup")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = subprocess.Popen(
            [args.boxup, "serve", "--bind", f"127.0.0.1:{port}",
             "--data-dir", os.path.join(tmp, "data"), "--token", "t=bench"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = server.stdout.readline()
            assert line.startswith("boxup serving on"), line
            origin = f"http://127.0.0.1:{port}"
            client = BoxClient(
                auth=BoxDeveloperTokenAuth(token="t"),
                network_session=NetworkSession(base_urls=BaseUrls(
                    base_url=origin, upload_url=f"{origin}/api",
                    oauth_2_url=f"{origin}/api/oauth2")))
            path = os.path.join(tmp, "big.bin")
            size = args.size_mib << 20
            with open(path, "wb") as f:
                for _ in range(args.size_mib):
                    f.write(os.urandom(1 << 20))
            with open(path, "rb") as f:
                want = hashlib.file_digest(f, "sha1").hexdigest()
            for run in range(args.repeat):
                start = time.monotonic()
                with open(path, "rb") as f:
                    file = client.chunked_uploads.upload_big_file(
                        f, f"big-{run}.bin", size, "0")
                secs = time.monotonic() - start
                assert file.sha_1 == want, (file.sha_1, want)
                print(f"box-sdk-gen upload_big_file: {size} bytes in {secs:.2f} s, "
                      f"{size / secs / 1e6:.1f} MB/s, {size / secs / 2**20:.1f} MiB/s")
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
