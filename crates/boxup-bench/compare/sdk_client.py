"""The official SDK's side of the SDK peer: runs in the interop venv (where
box-sdk-gen is installed), uploads one file with `upload_big_file`
against a boxup server, and prints one JSON line.

Only the call to upload_big_file is timed (wall and this process's CPU):
the interpreter's start and the SDK's imports are not the upload's cost,
and counting them would flatter boxup.

    python sdk_client.py FILE ORIGIN TOKEN WANT_SHA1
"""

import json
import resource
import sys
import time
from pathlib import Path

from box_sdk_gen import BaseUrls, BoxClient, BoxDeveloperTokenAuth, NetworkSession


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    file, origin, token, want = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    client = BoxClient(
        auth=BoxDeveloperTokenAuth(token=token),
        network_session=NetworkSession(base_urls=BaseUrls(
            base_url=origin, upload_url=f"{origin}/api", oauth_2_url=f"{origin}/api/oauth2")))
    size = file.stat().st_size
    cpu0, start = cpu_s(), time.monotonic()
    with open(file, "rb") as f:
        entry = client.chunked_uploads.upload_big_file(f, "sdk-" + file.name, size, "0")
    seconds, cpu = time.monotonic() - start, cpu_s() - cpu0
    print(json.dumps({"seconds": seconds, "cpu_s": cpu, "sha1": entry.sha_1, "id": entry.id,
                      "ok": entry.sha_1 == want}))
    return 0 if entry.sha_1 == want else 1


if __name__ == "__main__":
    sys.exit(main())
