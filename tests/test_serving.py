"""Serving: `klimainnkjop serve` runs gunicorn with several worker processes and, in production behind a proxy,
believes X-Forwarded-Proto (and X-Forwarded-For) only from the trusted proxy; the cache shared by the processes."""
from __future__ import annotations

import http.client
import os
import runpy
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "klimainnkjop" / "settings.py"
SECRET = "serving-test-" + "k" * 60
WORKERS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    """One request, redirects not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.fixture
def production_behind_proxy(tmp_path, separate_database):
    """The real server, in production mode behind a proxy on 127.0.0.1, on a free port (no report worker)."""
    env = {**os.environ, "KLIMAINNKJOP_DATA_DIR": str(tmp_path / "var"), "KLIMAINNKJOP_PRODUCTION": "1",
           "KLIMAINNKJOP_SECRET_KEY": SECRET, "KLIMAINNKJOP_BEHIND_PROXY": "1",
           "KLIMAINNKJOP_ALLOWED_HOSTS": "127.0.0.1", "KLIMAINNKJOP_WEB_WORKERS": str(WORKERS)}
    for default in ("KLIMAINNKJOP_TRUSTED_PROXY", "KLIMAINNKJOP_WEB_THREADS"):  # 127.0.0.1; 1 (the sync worker)
        env.pop(default, None)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "klimainnkjop.cli", "serve", "--port", str(port), "--no-worker"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(port, "/logg-inn/")
                break
            except OSError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.2)
        yield server, port
    finally:
        server.terminate()
        server.communicate(timeout=60)


def test_production_behind_a_proxy_serves_https_requests_without_a_redirect_loop(production_behind_proxy):
    server, port = production_behind_proxy
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    page = get(port, "/logg-inn/", https)
    assert page.status == 200
    assert page.getheader("Strict-Transport-Security", "").startswith("max-age=")  # Django saw a secure request
    assert "Secure" in page.getheader("Set-Cookie", "")  # the CSRF cookie, only sent back over https
    signed_out = get(port, "/", https)
    assert signed_out.status == 302
    assert signed_out.getheader("Location").startswith("/logg-inn/")  # to the sign-in page, not to https://
    # the same request without the proxy's header (plain http) goes to https, where the proxy takes over
    plain = get(port, "/logg-inn/")
    assert plain.status == 301
    assert plain.getheader("Location") == f"https://127.0.0.1:{port}/logg-inn/"
    # and a header the proxy did not write (another value than https) is not https either
    assert get(port, "/logg-inn/", {"X-Forwarded-Proto": "http"}).status == 301
    # several worker processes serve, under the one server process that `serve` is (forked from it after it loaded
    # the app; on a busy machine the last fork may still be under way when the first worker answers: wait for it)
    deadline = time.monotonic() + 20
    while len(children(server.pid)) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(children(server.pid)) == WORKERS


def test_a_server_not_behind_a_proxy_believes_no_forwarded_header(tmp_path, monkeypatch):
    """Gunicorn would trust 127.0.0.1 by default; without KLIMAINNKJOP_BEHIND_PROXY nobody is trusted."""
    from klimainnkjop.web import server

    values = load_settings(monkeypatch, tmp_path, KLIMAINNKJOP_BEHIND_PROXY=None, KLIMAINNKJOP_TRUSTED_PROXY=None)
    assert values["KLIMAINNKJOP_TRUSTED_PROXY"] == []
    monkeypatch.setattr("django.conf.settings.KLIMAINNKJOP_TRUSTED_PROXY", [])
    assert server.options(host="127.0.0.1", port=8000)["forwarded_allow_ips"] == ""
    behind = load_settings(monkeypatch, tmp_path, KLIMAINNKJOP_BEHIND_PROXY="1",
                           KLIMAINNKJOP_TRUSTED_PROXY="10.0.0.0/8, 192.0.2.1")
    assert behind["KLIMAINNKJOP_TRUSTED_PROXY"] == ["10.0.0.0/8", "192.0.2.1"]
    assert load_settings(monkeypatch, tmp_path, KLIMAINNKJOP_BEHIND_PROXY="1",
                         KLIMAINNKJOP_TRUSTED_PROXY=None)["KLIMAINNKJOP_TRUSTED_PROXY"] == ["127.0.0.1"]


def test_behind_a_trusted_proxy_the_client_address_is_the_one_the_proxy_appended():
    from klimainnkjop.web.server import ForwardedFor

    seen = []
    app = ForwardedFor(lambda environ, start_response: seen.append(environ["REMOTE_ADDR"]),
                       ["127.0.0.1", "10.0.0.0/8"])

    def remote(peer: str, forwarded: str | None) -> str:
        environ = {"REMOTE_ADDR": peer}
        if forwarded is not None:
            environ["HTTP_X_FORWARDED_FOR"] = forwarded
        app(environ, None)
        return seen.pop()

    # the client's own X-Forwarded-For entries come first; the proxy appends the address it saw
    assert remote("127.0.0.1", "198.51.100.1, 203.0.113.7") == "203.0.113.7"
    assert remote("10.1.2.3", "2001:db8::1") == "2001:db8::1"
    assert remote("192.0.2.50", "203.0.113.7") == "192.0.2.50"  # not a trusted proxy: its header proves nothing
    assert remote("127.0.0.1", "not-an-address") == "127.0.0.1"
    assert remote("127.0.0.1", None) == "127.0.0.1"


# --- the cache shared by the server's processes ------------------------------------------------------------------

def load_settings(monkeypatch, tmp_path, **env) -> dict:
    """The settings module's values for an environment, without touching the settings of this test process."""
    monkeypatch.setenv("KLIMAINNKJOP_DATA_DIR", str(tmp_path / "var"))
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def two_processes_caches(config: dict):
    """Two cache clients made from one CACHES entry, as two server processes make theirs."""
    from django.utils.module_loading import import_string

    params = {k: v for k, v in config.items() if k not in ("BACKEND", "LOCATION")}
    return [import_string(config["BACKEND"])(config["LOCATION"], params) for _ in range(2)]


def test_by_default_the_cache_is_files_in_the_data_directory_shared_by_every_process(monkeypatch, tmp_path):
    values = load_settings(monkeypatch, tmp_path, KLIMAINNKJOP_REDIS_URL=None)
    config = values["CACHES"]["default"]
    assert config["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert Path(config["LOCATION"]) == (tmp_path / "var" / "cache").resolve()
    one, other = two_processes_caches(config)
    key = f"test:{uuid.uuid4().hex}"
    assert other.get(key) is None
    one.set(key, {"kg": 1.5}, 60)
    assert other.get(key) == {"kg": 1.5}


def test_with_a_redis_url_the_cache_is_redis_shared_by_every_process(monkeypatch, tmp_path):
    """Against the Redis server on 127.0.0.1:6379 (every machine of the project and CI runs one)."""
    values = load_settings(monkeypatch, tmp_path, KLIMAINNKJOP_REDIS_URL="redis://127.0.0.1:6379/15")
    config = values["CACHES"]["default"]
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["KEY_PREFIX"].startswith("klimainnkjop:")
    one, other = two_processes_caches(config)
    key = f"test:{uuid.uuid4().hex}"
    try:
        one.set(key, [1, 2, 3], 60)
        assert other.get(key) == [1, 2, 3]
    finally:
        one.delete(key)


def test_changed_code_gives_every_cache_key_a_new_prefix(monkeypatch, tmp_path):
    """A file or Redis cache outlives the server: after an upgrade, pages cached by the old templates must not
    be served, so the key prefix follows the code, templates and translations."""
    values = load_settings(monkeypatch, tmp_path)
    package = tmp_path / "package"
    shutil.copytree(ROOT / "klimainnkjop" / "web" / "templates", package / "web" / "templates")
    (package / "views.py").write_text("x = 1\n")
    before = values["_code_version"](package)
    assert values["_code_version"](package) == before
    template = next((package / "web" / "templates").rglob("*.html"))
    template.write_text(template.read_text() + "\n<!-- changed -->\n")
    after_template = values["_code_version"](package)
    assert after_template != before
    (package / "views.py").write_text("x = 2\n")
    assert values["_code_version"](package) not in (before, after_template)
