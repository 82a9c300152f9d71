"""The README's first command the way a newcomer runs it, from a built wheel.

Builds a wheel from this checkout (its tracked files plus the copied front-end assets, so a
file left out of package-data is missing here as it would be for a user), installs it into a
clean virtualenv **without** the test extras, and in an empty data directory runs
``anjian init``, ``anjian demo`` and ``anjian serve`` on free ports. Then ``/healthz``, the API
docs, a vendor asset, an API login with the printed demo password (and one with the one-time
code ``anjian user otp`` prints), an API list and a console login through the form over plain
HTTP must answer. Stops the server and removes everything; exits non-zero naming what failed.
Uses only the standard library and the system Python (not the test virtualenv)::

    python3 scripts/smoke_fresh.py [--keep]

Run by ``.ci/run`` before ``./dev test``. Needs ``npm`` (the assets are copied first when
missing) and the package index the virtualenv installs the dependencies from."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = Path("src/anjian/web/static/vendor")
# Files a served console and a migrated database need from the wheel.
WHEEL_MUST_HOLD = (
    "anjian/web/static/vendor/htmx/htmx.min.js",
    "anjian/web/static/vendor/tabler/tabler.min.css",
    "anjian/web/static/vendor/swagger-ui/swagger-ui-bundle.js",
    "anjian/web/static/console.css",
    "anjian/web/templates/base.html",
    "anjian/web/templates/login.html",
    "anjian/migrations/env.py",
    "anjian/migrations/script.py.mako",
    "anjian/migrations/versions/0001_core_schema.py",
    "anjian/core/divisions/data/adcodes.csv",
)
ENTERPRISE_USER = "qiye"  # the demo's enterprise user (no MFA)
OFFICIAL_USER = "sheng"  # a demo official (MFA required): logs in with `anjian user otp`


class SmokeFailed(Exception):
    """A step of the first run failed; the message says which and why."""


def step(message: str) -> None:
    print(f"[smoke] {message}", flush=True)


def run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run ``cmd``; its output, or SmokeFailed with the output's tail."""
    done = subprocess.run(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if done.returncode != 0:
        tail = "\n".join(done.stdout.splitlines()[-40:])
        raise SmokeFailed(f"`{' '.join(cmd)}` exited {done.returncode}:\n{tail}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_assets() -> None:
    check = subprocess.run(
        [sys.executable, "scripts/assets.py", "--check"], cwd=ROOT, capture_output=True
    )
    if check.returncode == 0:
        return
    step("front-end assets missing: npm ci && scripts/assets.py")
    run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=ROOT)
    run([sys.executable, "scripts/assets.py"], cwd=ROOT)


def export_checkout(target: Path) -> None:
    """The tracked files as committed or changed in the work tree, plus the copied assets
    (git-ignored), without build leftovers or virtualenvs."""
    files = run(["git", "ls-files", "-z"], cwd=ROOT).split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    shutil.copytree(ROOT / VENDOR, target / VENDOR)  # follows a symlinked vendor folder too


def build_wheel(work: Path, python: Path) -> Path:
    """The wheel of the exported checkout, built with ``python``'s pip (the system Python
    may have none)."""
    source, dist = work / "source", work / "dist"
    export_checkout(source)
    run([str(python), "-m", "pip", "wheel", "--no-deps", "-q", str(source), "-w", str(dist)])
    wheels = list(dist.glob("anjian-*.whl"))
    if len(wheels) != 1:
        raise SmokeFailed(f"expected one wheel in {dist}, found {wheels}")
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
    missing = [n for n in WHEEL_MUST_HOLD if n not in names]
    versions = [n for n in names if n.startswith("anjian/migrations/versions/") and n[-3:] == ".py"]
    if missing or len(versions) < 2:
        raise SmokeFailed(f"the wheel lacks {missing} (migration versions: {len(versions)})")
    step(f"wheel {wheels[0].name}: {len(names)} files, {len(versions)} migrations, assets in")
    return wheels[0]


class Client:
    """A cookie-keeping HTTP client of the served node (urllib, no redirects followed)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args, **_kwargs):  # type: ignore[no-untyped-def]
            return None

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect
        )

    def request(
        self,
        path: str,
        *,
        form: dict[str, str] | None = None,
        body: object = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Message, str]:
        data = None
        headers = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.headers, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read().decode("utf-8", "replace")

    def expect(self, path: str, status: int = 200, **kwargs: object) -> tuple[Message, str]:
        got, headers, text = self.request(path, **kwargs)  # type: ignore[arg-type]
        if got != status:
            raise SmokeFailed(f"{path}: HTTP {got}, expected {status}: {text[:300]}")
        return headers, text


def printed_logins(output: str) -> dict[str, str]:
    """username → password from the table ``anjian demo`` prints."""
    logins = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in (ENTERPRISE_USER, OFFICIAL_USER):
            logins[parts[0]] = parts[1]
    return logins


def wait_healthy(client: Client, server: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SmokeFailed(
                f"anjian serve exited {server.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            status, _, text = client.request("/healthz")
            if status == 200 and json.loads(text).get("status") == "ok":
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SmokeFailed(f"/healthz did not answer within 90 s:\n{log.read_text()[-3000:]}")


def check_served(client: Client, anjian: Path, env: dict[str, str], logins: dict[str, str]) -> None:
    headers, _ = client.expect("/healthz")
    if headers.get("X-Content-Type-Options") != "nosniff":
        raise SmokeFailed(f"/healthz without the security headers: {headers}")
    client.expect("/docs")
    client.expect("/static/vendor/htmx/htmx.min.js")
    client.expect("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    # the API: the enterprise user with the printed password, lists its enterprise
    _, text = client.expect(
        "/api/v1/auth/login",
        body={"username": ENTERPRISE_USER, "password": logins[ENTERPRISE_USER]},
    )
    token = json.loads(text)["access_token"]
    _, text = client.expect("/api/v1/enterprises", headers={"Authorization": f"Bearer {token}"})
    if not json.loads(text).get("items"):
        raise SmokeFailed(f"/api/v1/enterprises listed nothing for {ENTERPRISE_USER}: {text[:300]}")
    # an official with the one-time code the CLI prints for demo users
    otp = run([str(anjian), "user", "otp", OFFICIAL_USER], env=env).strip()
    client.expect(
        "/api/v1/auth/login",
        body={"username": OFFICIAL_USER, "password": logins[OFFICIAL_USER], "otp": otp},
    )
    # the console over plain HTTP, through the login form (its CSRF cookie must come back)
    _, form = client.expect("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    if not csrf:
        raise SmokeFailed("no CSRF token in the login form")
    fields = {
        "username": ENTERPRISE_USER,
        "password": logins[ENTERPRISE_USER],
        "next": "/",
        "step": "password",
        "csrf": csrf.group(1),
    }
    headers, text = client.expect("/login", 303, form=fields)
    if headers.get("Location") != "/":
        raise SmokeFailed(f"console login went to {headers.get('Location')}: {text[:300]}")
    _, page = client.expect("/")
    if "/static/vendor/tabler/tabler.min.css" not in page:
        raise SmokeFailed("the console's home page does not load its stylesheet")


def smoke(work: Path) -> None:
    ensure_assets()
    venv = work / "venv"
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "venv", str(venv)])
    step("building the wheel")
    wheel = build_wheel(work, python)
    step("installing it into the clean virtualenv (no test extras)")
    run([str(python), "-m", "pip", "install", "-q", str(wheel)])
    anjian = venv / "bin" / "anjian"
    port, mqtt_port = free_port(), free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ANJIAN_", "PYTHON", "VIRTUAL"))
    }
    env |= {
        "ANJIAN_DATA_DIR": str(work / "data"),
        "ANJIAN_PORT": str(port),
        # never the broker that may already listen on 1883 (CI's Mosquitto)
        "ANJIAN_MQTT_EMBEDDED_PORT": str(mqtt_port),
        "COLUMNS": "200",  # Rich: the logins table on one line per user
    }
    home = work / "home"  # run where no source tree is importable
    home.mkdir()
    step("anjian init")
    run([str(anjian), "init"], cwd=home, env=env)
    step("anjian demo")
    output = run([str(anjian), "demo", "--enterprises", "30"], cwd=home, env=env)
    logins = printed_logins(output)
    if set(logins) != {ENTERPRISE_USER, OFFICIAL_USER}:
        raise SmokeFailed(
            f"the demo did not print the logins of {ENTERPRISE_USER}, {OFFICIAL_USER}"
        )
    step(f"anjian serve on 127.0.0.1:{port}")
    log = work / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(anjian), "serve"], cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        client = Client(f"http://127.0.0.1:{port}")
        wait_healthy(client, server, log)
        check_served(client, anjian, env, logins)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if server.returncode not in (0, -signal.SIGINT):
        raise SmokeFailed(
            f"anjian serve stopped with {server.returncode}:\n{log.read_text()[-2000:]}"
        )
    step("healthz, docs, assets, API and console logins answered")


def main(argv: list[str]) -> int:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="anjian-smoke-"))
    try:
        smoke(work)
    except SmokeFailed as exc:
        print(f"[smoke] FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if "--keep" in argv:
            step(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    step(f"passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
