"""Secret hygiene end to end: distinctive secrets go through a whole flow (profile in the
keyring, connect, token refresh after revocation, server errors, DEBUG logs, export, a
crash, a restart) and then appear nowhere: not in the data folder, the logs, the settings,
the exports, or anything printed. Access tokens are never logged at all. The same for the
login kinds: a browser login's code, PKCE verifier and refresh tokens (rotated ones too),
a client secret, a JWT private key."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sfmonitor.auth.pkce import Pkce, challenge_of
from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_USERNAME,
    ConnectedApp,
    User,
)
from sfmonitor.emulator.faults import Pending
from sfmonitor.emulator.oauth import register_app
from sfmonitor.store import CaptureStore, EventQuery, export_events
from tests.auth.conftest import free_port
from tests.auth.test_sources import certificate_of, make_key, write_key
from tests.helpers.browser import stand_in_browser
from tests.helpers.emulator_thread import emulator_thread
from tests.helpers.waiting import wait_until_blocking

PASSWORD = "Pw-Hygiene-7q1Z-Unique"
TOKEN_SUFFIX = "SecTok9931"  # the security token, appended to the password
CLIENT_SECRET = "Cs-Hygiene-55Xk-Unique"
USERNAME = "hygiene@sfmonitor.example"
CLIENT_ID = "hygiene-client-id"


def sfmonitor(folder: Path, env: dict[str, str], *args: str, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sfmonitor",
            "--data-dir",
            str(folder),
            "--log-level",
            "DEBUG",
            *args,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=kw.pop("stderr", subprocess.PIPE),  # type: ignore[arg-type]
        text=True,
        env=env,
        **kw,  # type: ignore[arg-type]
    )


def stored(folder: Path) -> int:
    with CaptureStore.open(folder, read_only=True) as store:
        return store.count(EventQuery())


def test_no_secret_is_written_anywhere(tmp_path: Path, secret_service_env: dict[str, str]) -> None:
    folder = tmp_path / "data"
    env = {
        **os.environ,
        **{
            k: secret_service_env[k]
            for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR")
        },
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # where QSettings would write
    }
    printed: list[str] = []
    with emulator_thread(
        connect_timeout=1.0,
        users=[User(USERNAME, PASSWORD, security_token=TOKEN_SUFFIX)],
        apps=[ConnectedApp(CLIENT_ID, CLIENT_SECRET, run_as=USERNAME)],
        trusted_ip=False,
    ) as emu:
        org = emu.emulator.org
        add = sfmonitor(
            folder,
            env,
            "profiles",
            "add",
            "Hyg",
            "--login-url",
            emu.url,
            "--username",
            USERNAME,
            "--client-id",
            CLIENT_ID,
            "--channel",
            "/u/news",
            "--secrets-stdin",
        )
        out, err = add.communicate(f"{PASSWORD}{TOKEN_SUFFIX}\n{CLIENT_SECRET}\n", timeout=60)
        printed += [out, err]
        assert add.returncode == 0, err

        capture = sfmonitor(
            folder, env, "capture", "--profile", "Hyg", "--ndjson", str(tmp_path / "echo.ndjson")
        )
        emu.call(lambda: [org.publish_any("/u/news", f"a{i}") for i in range(3)])
        wait_until_blocking(lambda: folder.joinpath("capture.db").exists() and stored(folder) >= 0)
        time.sleep(1.0)
        emu.call(lambda: [org.publish_any("/u/news", f"b{i}") for i in range(3)])
        wait_until_blocking(lambda: stored(folder) >= 3)
        emu.call(lambda: emu.emulator.revoke_tokens())  # a new token must be fetched
        emu.call(lambda: emu.emulator.faults.add(Pending("http_status", 2, status=503)))
        emu.call(lambda: [org.publish_any("/u/news", f"c{i}") for i in range(3)])
        wait_until_blocking(lambda: stored(folder) >= 6)
        capture.send_signal(signal.SIGKILL)  # a crash
        out, err = capture.communicate(timeout=30)
        printed += [out, err]

        restart = sfmonitor(folder, env, "capture", "--profile", "Hyg")
        emu.call(lambda: [org.publish_any("/u/news", f"d{i}") for i in range(3)])
        wait_until_blocking(lambda: stored(folder) >= 9)
        restart.send_signal(signal.SIGTERM)
        out, err = restart.communicate(timeout=30)
        printed += [out, err]
        assert restart.returncode == 0, err
        tokens = list(org.access_tokens)
        assert org.token_requests >= 3  # login, re-login after revocation, login after restart

    with CaptureStore.open(folder, read_only=True) as store:
        export_events(store, EventQuery(), tmp_path / "export.json")

    log_text = (folder / "logs" / "sfmonitor.log").read_text()
    assert "logged in: instance" in log_text  # the login was logged (DEBUG)...
    assert "access token" not in log_text  # ...without its token, even masked:
    assert re.search(r"00D[A-Za-z0-9]{12,15}!", log_text) is None
    secrets = [PASSWORD, TOKEN_SUFFIX, CLIENT_SECRET, f"{PASSWORD}{TOKEN_SUFFIX}", *tokens]
    files = [p for p in tmp_path.rglob("*") if p.is_file() and "keyrings" not in p.parts]
    assert any(p.name == "capture.db" for p in files) and any(p.suffix == ".log" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"a secret is in {path}"
    for text in printed:
        for secret in secrets:
            assert secret not in text, "a secret was printed"


# --- the login kinds of issue 15 ------------------------------------------------------------

CC_SECRET = "Cs-Hygiene-CC-81Wq-Unique"
VERIFIER_RUN = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def holds_verifier(text: str, challenge: str) -> bool:
    """Whether ``text`` holds the PKCE verifier of ``challenge`` (found by hashing every
    run of verifier characters: the verifier itself is never seen outside sfmonitor)."""
    return any(challenge_of(run) == challenge for run in VERIFIER_RUN.findall(text))


def test_no_secret_of_the_login_kinds_is_written_anywhere(
    tmp_path: Path, secret_service_env: dict[str, str]
) -> None:
    """Browser login (code, verifier, refresh tokens, rotated ones), client credentials
    and a JWT key through add, capture (DEBUG log, NDJSON echo), export and list."""
    probe = Pkce()  # the search below finds a verifier when one is there
    assert holds_verifier(f"x={probe.verifier}&", probe.challenge)
    folder = tmp_path / "data"
    env = {
        **os.environ,
        **{
            k: secret_service_env[k]
            for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR")
        },
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    browser = stand_in_browser(tmp_path / "outside" / "browser")
    env["BROWSER"] = str(browser.path)
    key = make_key()
    key_file = write_key(key, tmp_path / "outside" / "capture.key")
    port = free_port()
    printed: list[str] = []
    issued: set[str] = set()

    def run(*args: str, stdin: str = "") -> None:
        proc = sfmonitor(folder, env, *args)
        out, err = proc.communicate(stdin, timeout=120)
        printed.extend((out, err))
        assert proc.returncode == 0, err

    def capture(profile: str) -> None:
        said = tmp_path / "outside" / f"capture-{len(printed)}.txt"
        before = stored(folder)
        with said.open("w") as err:
            proc = sfmonitor(folder, env, "capture", "--profile", profile, "--ndjson",
                             str(folder / f"{profile}.ndjson"), stderr=err)  # fmt: skip
            wait_until_blocking(lambda: "subscribed to /u/news" in said.read_text(), 60)
            emu.call(lambda: [org.publish_any("/u/news", f"e{i}") for i in range(2)])
            wait_until_blocking(lambda: stored(folder) >= before + 2, 60, "two events")
            issued.update(emu.call(lambda: list(org.refresh_tokens)))
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
        printed.extend((out, said.read_text()))
        assert proc.returncode == 0, said.read_text()

    with emulator_thread(connect_timeout=1.0, auto_approve=True) as emu:
        org = emu.emulator.org
        app = org.apps[DEFAULT_CLIENT_ID]
        emu.call(lambda: app.callback_urls.append(f"http://localhost:{port}/OauthRedirect"))
        app.rotate_refresh_token = True
        emu.call(lambda: register_app(org, {"client_id": "cc-app", "client_secret": CC_SECRET}))
        emu.call(lambda: register_app(org, {"client_id": "jwt-app"}))
        org.apps["jwt-app"].certificate = certificate_of(key)
        url, web = emu.url, ("--callback-port", str(port))
        run("profiles", "add", "Web", "--login-url", url, "--auth", "web",
            "--client-id", DEFAULT_CLIENT_ID, "--channel", "/u/news", *web)  # fmt: skip
        issued.update(emu.call(lambda: list(org.refresh_tokens)))
        run("profiles", "add", "CC", "--login-url", url, "--auth", "client-credentials",
            "--client-id", "cc-app", "--channel", "/u/news", "--secrets-stdin",
            stdin=f"{CC_SECRET}\n")  # fmt: skip
        run("profiles", "add", "Jwt", "--login-url", url, "--auth", "jwt", "--client-id",
            "jwt-app", "--username", DEFAULT_USERNAME, "--key-file", str(key_file),
            "--channel", "/u/news")  # fmt: skip
        for profile in ("Web", "CC", "Jwt", "Web"):  # Web twice: its rotated token is used
            capture(profile)
        run("profiles", "login", "Web")
        run("profiles", "list")
        issued.update(emu.call(lambda: list(org.refresh_tokens)))
        tokens = emu.call(lambda: list(org.access_tokens))
    with CaptureStore.open(folder, read_only=True) as store:
        export_events(store, EventQuery(), tmp_path / "export.json")

    authorize, callback = browser.seen()[0], browser.seen()[1]
    challenge = parse_qs(urlsplit(authorize).query)["code_challenge"][0]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    body = [line for line in key_file.read_text().splitlines() if "-----" not in line]
    secrets = [CC_SECRET, code, *(issued - {DEFAULT_REFRESH_TOKEN}), *tokens, *body]
    assert len(tokens) >= 5 and len(issued) >= 4  # logins, refreshes and rotations happened
    log_text = (folder / "logs" / "sfmonitor.log").read_text()
    assert "logged in as" in log_text and "code_verifier" not in log_text
    outside = tmp_path / "outside"  # the browser's notes and the key file are not ours
    files = [
        p
        for p in tmp_path.rglob("*")
        if p.is_file() and "keyrings" not in p.parts and outside not in p.parents
    ]
    assert {"capture.db", "sfmonitor.log", "Web.ndjson", "export.json"} <= {p.name for p in files}
    for path in files:
        text = path.read_bytes().decode("latin-1")
        assert not holds_verifier(text, challenge), f"the PKCE verifier is in {path}"
        for secret in secrets:
            assert secret not in text, f"a secret is in {path}"
    for text in printed:
        assert not holds_verifier(text, challenge)
        for secret in secrets:
            assert secret not in text, "a secret was printed"
