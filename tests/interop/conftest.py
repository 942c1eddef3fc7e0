"""Fixtures of the boxup interoperability suite.

Each session starts real `boxup serve` processes on loopback ports chosen by
the OS (`--bind 127.0.0.1:0`; the server prints the address it got), with a
temporary data dir and fixed developer tokens, and hands out `BoxClient`s of
the official `box-sdk-gen` package configured only through its public
options: base URLs, a developer token, a retry strategy that fails fast, and
a `requests` session whose response hook records the HTTP exchanges (shown
next to any failing test, so a failure names the request that went wrong).

Two servers run side by side because part size is a server-wide setting:

* ``small``: ``--part-size 1048576 --min-chunked-size 1048576``, for the
  manual chunked-upload tests that need many parts quickly;
* ``default``: Box's own part-size rule (8 MiB parts) and the default 20 MB
  minimum session size, for the 50 MiB ``upload_big_file`` test.

External mode: with ``BOXUP_INTEROP_SMALL_URL`` and
``BOXUP_INTEROP_DEFAULT_URL`` both set (origins such as
``http://127.0.0.1:8080``), no server is started; the same tests run
against deployments that are already up (e.g. replicas behind a load
balancer, tests/replicas/run.sh), which must accept the tokens of
interop_helpers.py and use the settings above. Setting only one of the two
is an error. Tests marked ``own_server`` need a process of their own (to
restart it, read its log...) and are deselected in external mode; the
count is printed, and run.sh counts a deselected test as neither passed
nor failed.
"""

from __future__ import annotations

import collections
import os
import selectors
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Deque, List, Optional

import pytest
import requests
import requests.adapters
from box_sdk_gen import BaseUrls, BoxClient, BoxDeveloperTokenAuth, NetworkSession
from box_sdk_gen.networking.box_network_client import BoxNetworkClient
from box_sdk_gen.networking.retries import BoxRetryStrategy

from interop_helpers import ALICE_TOKEN, BOB_TOKEN, SMALL_MIN_CHUNKED, SMALL_PART_SIZE

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_DEADLINE_S = 30.0



# --------------------------------------------------------------------------
# HTTP exchange log (diagnostics only; it never alters a request).


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict
    status: int
    response_headers: dict
    body: Optional[str]

    def render(self) -> str:
        lines = [f"{self.method} {self.url} -> {self.status}"]
        if self.request_headers:
            lines.append(f"    request headers: {self.request_headers}")
        if self.response_headers:
            lines.append(f"    response headers: {self.response_headers}")
        if self.body is not None:
            lines.append(f"    response body: {self.body}")
        return "\n".join(lines)


_INTERESTING_REQUEST_HEADERS = (
    "content-type",
    "content-length",
    "transfer-encoding",
    "content-range",
    "digest",
    "range",
    "if-match",
    "if-none-match",
)
_INTERESTING_RESPONSE_HEADERS = (
    "content-type",
    "content-range",
    "retry-after",
    "location",
    "www-authenticate",
)


@dataclass
class HttpLog:
    exchanges: Deque[Exchange] = field(default_factory=lambda: collections.deque(maxlen=200))
    current_test: str = ""
    # Every connection-level failure of the session (the SDK retried it).
    all_connection_errors: List[str] = field(default_factory=list)

    def clear(self) -> None:
        self.exchanges.clear()

    def hook(self, response: requests.Response, *args, **kwargs) -> None:
        req = response.request
        req_headers = {
            k.lower(): v
            for k, v in req.headers.items()
            if k.lower() in _INTERESTING_REQUEST_HEADERS
        }
        resp_headers = {
            k.lower(): v
            for k, v in response.headers.items()
            if k.lower() in _INTERESTING_RESPONSE_HEADERS
        }
        body = None
        ctype = response.headers.get("Content-Type", "")
        if response.status_code >= 400 or "json" in ctype:
            # Reading here caches the body; the SDK reads the same cache.
            text = response.text
            body = text if len(text) <= 1500 else text[:1500] + "...(truncated)"
        self.exchanges.append(
            Exchange(req.method, req.url, req_headers, response.status_code, resp_headers, body)
        )

    def record_exception(self, request: requests.PreparedRequest, error: Exception) -> None:
        self.exchanges.append(
            Exchange(request.method, request.url, {}, 0, {}, f"CONNECTION ERROR: {error!r}")
        )
        self.all_connection_errors.append(
            f"{self.current_test}: {request.method} {request.url}: {error!r}"
        )

    def connection_errors(self) -> List[Exchange]:
        return [e for e in self.exchanges if e.status == 0]

    def matching(self, method: str, url_part: str = "") -> List[Exchange]:
        return [
            e for e in self.exchanges if e.method == method and url_part in e.url
        ]


HTTP_LOG = HttpLog()


class _RecordingAdapter(requests.adapters.HTTPAdapter):
    """Records connection-level failures, which never reach response hooks."""

    def send(self, request, *args, **kwargs):
        try:
            return super().send(request, *args, **kwargs)
        except requests.RequestException as e:
            HTTP_LOG.record_exception(request, e)
            raise


# --------------------------------------------------------------------------
# Server processes.


def boxup_admin(server, *args: str) -> str:
    """Runs `boxup admin` on a deployment's metadata store; its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXUP_")}
    done = subprocess.run(
        [str(_boxup_bin()), "admin", *server.admin_args(), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, f"boxup admin {' '.join(args)}: {done.stderr}"
    return done.stdout


def _boxup_bin() -> Path:
    env = os.environ.get("BOXUP_BIN")
    path = Path(env) if env else REPO_ROOT / "target" / "release" / "boxup"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise RuntimeError(
            f"boxup binary not found at {path}; run tests/interop/run.sh "
            "or set BOXUP_BIN"
        )
    return path


def wait_for_healthz(origin: str, deadline: float, alive) -> Optional[Exception]:
    """Polls `origin/healthz` until it answers 200 (returns None), the
    deadline passes or `alive()` turns false (returns the last error seen).
    A bounded poll, never a fixed sleep."""
    last_error: Optional[Exception] = RuntimeError("not polled before the deadline")
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(origin + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return None
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last_error = e
        if not alive():
            break
        time.sleep(0.05)
    return last_error


class BoxupServer:
    def __init__(self, name: str, extra_args: List[str]):
        self.name = name
        self.tmp = Path(tempfile.mkdtemp(prefix=f"boxup-interop-{name}-"))
        self.data_dir = self.tmp / "data"
        self.log_path = self.tmp / "server.log"
        self.origin: Optional[str] = None
        self.stdout_lines: List[str] = []
        args = [
            str(_boxup_bin()),
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            str(self.data_dir),
            "--token",
            f"{ALICE_TOKEN}=alice",
            "--token",
            f"{BOB_TOKEN}=bob",
            *extra_args,
        ]
        self.args = args
        env = dict(os.environ)
        # Only the command line configures the server under test.
        for key in list(env):
            if key.startswith("BOXUP_"):
                del env[key]
        env.setdefault("RUST_LOG", "info")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def admin_args(self) -> List[str]:
        """Where `boxup admin` finds this server's metadata."""
        return ["--data-dir", str(self.data_dir)]

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        try:
            while self.origin is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(
                        f"boxup ({self.name}) did not print 'boxup serving on' within "
                        f"{STARTUP_DEADLINE_S}s; stdout={buf!r}\n{self.log_tail()}"
                    )
                if not sel.select(timeout=remaining):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    code = self.proc.wait(timeout=5)
                    raise RuntimeError(
                        f"boxup ({self.name}) exited with {code} before listening: "
                        f"{' '.join(self.args)}\nstdout={buf!r}\n{self.log_tail()}"
                    )
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    text = line.decode(errors="replace").strip()
                    self.stdout_lines.append(text)
                    if text.startswith("boxup serving on "):
                        addr = text[len("boxup serving on "):].strip()
                        self.origin = f"http://{addr}"
        finally:
            sel.close()
        # The line is printed once the socket is bound; confirm that HTTP is
        # answered, polling with a bounded deadline (no fixed sleep).
        last_error = wait_for_healthz(self.origin, deadline, lambda: self.proc.poll() is None)
        if last_error is None:
            return
        raise RuntimeError(
            f"boxup ({self.name}) at {self.origin} never answered /healthz: "
            f"{last_error}\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        if os.environ.get("BOXUP_INTEROP_KEEP_DATA"):
            print(f"\nkept {self.name} server data and log in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class ExternalDeployment:
    """A deployment started by someone else: only its origin is known."""

    def __init__(self, name: str, origin: str):
        self.name = name
        self.origin = origin.rstrip("/")
        self._wait_ready()

    def admin_args(self) -> List[str]:
        """Where `boxup admin` finds the deployment's metadata: its
        PostgreSQL database, from BOXUP_INTEROP_<NAME>_DATABASE_URL."""
        var = f"BOXUP_INTEROP_{self.name.upper()}_DATABASE_URL"
        url = os.environ.get(var, "").strip()
        if not url:
            raise pytest.UsageError(f"external mode needs {var} for `boxup admin`")
        return ["--database-url", url]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        last_error = wait_for_healthz(self.origin, deadline, lambda: True)
        if last_error is None:
            return
        raise RuntimeError(
            f"external deployment {self.name} at {self.origin} never answered "
            f"/healthz within {STARTUP_DEADLINE_S}s: {last_error}"
        )

    def log_tail(self, n: int = 40) -> str:
        return ""  # its logs are its owner's

    def stop(self) -> None:
        pass


_EXTERNAL_ENV = {"small": "BOXUP_INTEROP_SMALL_URL", "default": "BOXUP_INTEROP_DEFAULT_URL"}


def external_origins() -> Optional[dict]:
    """{"small": origin, "default": origin} in external mode, else None."""
    values = {name: os.environ.get(var, "").strip() for name, var in _EXTERNAL_ENV.items()}
    if not any(values.values()):
        return None
    missing = [_EXTERNAL_ENV[name] for name, value in values.items() if not value]
    if missing:
        raise pytest.UsageError(
            f"external mode needs both {' and '.join(_EXTERNAL_ENV.values())}; "
            f"{', '.join(missing)} is not set"
        )
    return values


def _start_server(name: str, extra_args: List[str]):
    external = external_origins()
    if external is not None:
        return ExternalDeployment(name, external[name])
    return BoxupServer(name, extra_args)


def make_client(
    origin: str, token: str, retry_strategy: Optional[BoxRetryStrategy] = None
) -> BoxClient:
    """A BoxClient configured as a user of Box would: base URLs and a token.

    HTTP-status retries are turned off (one attempt) so a 5xx or 429 fails
    the test at once instead of after ~30 s of backoff. Connection errors
    keep the SDK's default of two retries, with a short backoff; each one is
    recorded in the HTTP log (status 0), and test_http_connection.py checks
    the server-side cause separately. A test that wants the SDK to retry
    (e.g. 429s) passes its own `retry_strategy`.
    """
    session = requests.Session()
    session.mount("http://", _RecordingAdapter())
    session.hooks["response"].append(HTTP_LOG.hook)
    network_session = NetworkSession(
        base_urls=BaseUrls(
            base_url=origin,
            upload_url=f"{origin}/api",
            oauth_2_url=f"{origin}/api/oauth2",
        ),
        retry_strategy=retry_strategy
        or BoxRetryStrategy(max_attempts=1, retry_base_interval=0.01, max_retries_on_exception=2),
        network_client=BoxNetworkClient(requests_session=session),
    )
    return BoxClient(auth=BoxDeveloperTokenAuth(token=token), network_session=network_session)


_SERVERS: dict = {}


@pytest.fixture(scope="session")
def small_server():
    server = _start_server(
        "small",
        [
            "--part-size",
            str(SMALL_PART_SIZE),
            "--min-chunked-size",
            str(SMALL_MIN_CHUNKED),
        ],
    )
    _SERVERS["small"] = server
    yield server
    _SERVERS.pop("small", None)
    server.stop()


@pytest.fixture(scope="session")
def default_server():
    # Box's part-size rule and minimum session size: nothing overridden.
    server = _start_server("default", [])
    _SERVERS["default"] = server
    yield server
    _SERVERS.pop("default", None)
    server.stop()


@pytest.fixture(scope="session")
def client(small_server) -> BoxClient:
    """User alice on the 1 MiB-part server."""
    return make_client(small_server.origin, ALICE_TOKEN)


@pytest.fixture(scope="session")
def bob_client(small_server) -> BoxClient:
    """User bob on the same server, for isolation checks."""
    return make_client(small_server.origin, BOB_TOKEN)


@pytest.fixture(scope="session")
def big_client(default_server) -> BoxClient:
    """User alice on the server that uses Box's default part-size rule."""
    return make_client(default_server.origin, ALICE_TOKEN)


@pytest.fixture(scope="session")
def client_factory():
    """make_client(origin, token), for tests that need another identity."""
    return make_client


@pytest.fixture
def http_log() -> HttpLog:
    return HTTP_LOG


@pytest.fixture(autouse=True)
def _fresh_http_log(request):
    HTTP_LOG.clear()
    HTTP_LOG.current_test = request.node.nodeid
    yield
    HTTP_LOG.current_test = ""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "own_server: needs a server process of its own; deselected in external mode",
    )
    external = external_origins()
    if external is not None:
        config._boxup_external = external  # noqa: SLF001 - read back below


def pytest_collection_modifyitems(config, items):
    if getattr(config, "_boxup_external", None) is None:
        return
    keep = [item for item in items if item.get_closest_marker("own_server") is None]
    dropped = [item for item in items if item.get_closest_marker("own_server") is not None]
    config._boxup_deselected = len(dropped)  # noqa: SLF001
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_report_header(config):
    external = getattr(config, "_boxup_external", None)
    if external is not None:
        return [
            "external mode (no server started): "
            + ", ".join(f"{name} at {origin}" for name, origin in external.items())
        ]
    return None


# --------------------------------------------------------------------------
# Reporting: show the HTTP exchanges next to a failure.


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        recent = list(HTTP_LOG.exchanges)[-25:]
        if recent:
            report.sections.append(
                ("HTTP exchanges (most recent last)", "\n".join(e.render() for e in recent))
            )
        for name, server in _SERVERS.items():
            tail = server.log_tail(15)
            if tail:
                report.sections.append((f"boxup ({name}) log tail", tail))


def pytest_terminal_summary(terminalreporter, config):
    if getattr(config, "_boxup_external", None) is not None:
        count = getattr(config, "_boxup_deselected", 0)
        terminalreporter.write_line(
            f"external mode: {count} test(s) marked own_server deselected (not run, not passed)"
        )
    errors = HTTP_LOG.all_connection_errors
    if errors:
        terminalreporter.section("connection errors the SDK retried")
        for line in errors:
            terminalreporter.write_line(line)
