"""A real Synapse homeserver for tests and benchmarks: 127.0.0.1 only, a free port, SQLite, no federation.

``Synapse(folder).start()`` writes a config (first time: Synapse's own ``--generate-config``, then our listener,
database and rate limits over it), starts the server as a child process and waits until it answers; users are
registered through its shared-secret admin registration API. ``restart()`` keeps the port and the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from assistant.atomic import private_dir

SERVER_NAME = "localhost"
UNLIMITED = {"per_second": 10000, "burst_count": 10000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Synapse:
    """One homeserver in ``folder``."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.config_path = folder / "homeserver.yaml"
        self.process: subprocess.Popen[bytes] | None = None
        self._secret = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def user_id(self, name: str) -> str:
        return f"@{name}:{SERVER_NAME}"

    def _configure(self) -> None:
        private_dir(self.folder)
        if not self.config_path.exists():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "synapse.app.homeserver",
                    "--server-name",
                    SERVER_NAME,
                    "--config-path",
                    str(self.config_path),
                    "--data-directory",
                    str(self.folder),
                    "--generate-config",
                    "--report-stats=no",
                ],
                check=True,
                capture_output=True,
                cwd=self.folder,
            )
        config: dict[str, Any] = yaml.safe_load(self.config_path.read_text())
        config.update(
            listeners=[
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            database={"name": "sqlite3", "args": {"database": str(self.folder / "homeserver.db")}},
            trusted_key_servers=[],
            suppress_key_server_warning=True,
            federation_domain_whitelist=[],
            enable_registration=False,
            presence={"enabled": False},
            url_preview_enabled=False,
            enable_metrics=False,
            rc_message=UNLIMITED,
            rc_login={"address": UNLIMITED, "account": UNLIMITED, "failed_attempts": UNLIMITED},
            rc_registration=UNLIMITED,
            rc_joins={"local": UNLIMITED, "remote": UNLIMITED},
            rc_joins_per_room=UNLIMITED,
            rc_invites={"per_room": UNLIMITED, "per_user": UNLIMITED, "per_issuer": UNLIMITED},
            rc_room_creation=UNLIMITED,
            rc_3pid_validation=UNLIMITED,
            rc_admin_redaction=UNLIMITED,
        )
        self._secret = config["registration_shared_secret"]
        self.config_path.write_text(yaml.safe_dump(config))

    def start(self, timeout: float = 120.0) -> None:
        """Start the server and wait until its client API answers."""
        self._configure()
        log = (self.folder / "stdout.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SYNAPSE_ASYNC_IO_REACTOR": "0"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"synapse exited with {self.process.returncode}; see {self.folder}/stdout.log")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise TimeoutError("synapse did not answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, token: str = "") -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")

    def register(self, name: str, password: str, admin: bool = False) -> str:
        """Register ``name`` (the shared-secret registration API); returns its access token."""
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self._secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), name.encode(), password.encode(), b"admin" if admin else b"notadmin"]))
        body = {"nonce": nonce, "username": name, "password": password, "admin": admin, "mac": mac.hexdigest()}
        return self._request("POST", "/_synapse/admin/v1/register", body)["access_token"]

    def devices(self, token: str) -> list[str]:
        """The device ids of the account whose access ``token`` this is."""
        return [d["device_id"] for d in self._request("GET", "/_matrix/client/v3/devices", token=token)["devices"]]

    def logout(self, token: str) -> None:
        """End the login of ``token`` (the homeserver no longer takes it)."""
        self._request("POST", "/_matrix/client/v3/logout", {}, token=token)

    def override_ratelimit(self, admin_token: str, user: str, per_second: int | None, burst: int = 1) -> None:
        """Rate-limit ``user``'s messages (None: back to the server's setting)."""
        path = f"/_synapse/admin/v1/users/{urllib.request.quote(self.user_id(user))}/override_ratelimit"
        if per_second is None:
            self._request("DELETE", path, token=admin_token)
        else:
            body = {"messages_per_second": per_second, "burst_count": burst}
            self._request("POST", path, body, token=admin_token)
